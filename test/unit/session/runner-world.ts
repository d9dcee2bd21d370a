/**
 * A simulated terminal for the SessionRunner unit tests (helpers, not a spec): a lockstep camera of tight I420
 * frames, and a face "engine" (the runner's narrow engine seam) that plays a customer reacting to the LED prompts
 * the runner reports (blink, turn in their OWN direction: + image yaw = subject's left). Every buffer the runner is
 * handed or handed out (frame data, RGB images, templates) is kept so tests can assert it was zeroed.
 */
import sharp from 'sharp';
import type { CameraHealth, Frame, FrameSource, FrameSourceStats } from '../../../src/camera/frame-source.ts';
import { FULL_BT601 } from '../../../src/camera/i420.ts';
import type { ProgressEvent, RunnerEngine } from '../../../src/session/runner.ts';
import { cosine, type FaceTemplate } from '../../../src/vision/matcher.ts';
import type { FaceAnalysis, ScoredFaceAnalysis } from '../../../src/vision/engine.ts';
import type { RgbImage } from '../../../src/vision/image.ts';
import { FaceTrack, type FaceTrackOptions, type PoseSource } from '../../../src/vision/face-track.ts';
import type { TrackedFrameOptions } from '../../../src/vision/face-tracker.ts';

export const W = 160;
export const H = 120;
export const REF_SIZE = 100;
/** the reference photo (analysed by the intake on a border, so not REF_SIZE any more): anything not a camera frame */
const isReference = (img: RgbImage): boolean => img.width !== W || img.height !== H;
const FPS = 30;

export interface WorldOptions {
  frames?: number;
  /** faces on the reference photo */
  referenceFaces?: number;
  /** whose face is in front of the camera */
  person?: 'ref' | 'other';
  antispoof?: number;
  /** the customer ignores prompts (no reaction) */
  passive?: boolean;
  /** no face in the frames at all */
  empty?: boolean;
  /** after this many frames the camera stops delivering (hangs until the read is canceled) */
  hangAfter?: number;
  /** real ms between frames (a recorded-pace replay), and the recorded time of frame 0 */
  paceMs?: number;
  startTsMs?: number;
  /** called before frame k is delivered */
  before?: Record<number, () => void | Promise<void>>;
}

const vec = (hot: number, k: number): Float32Array => {
  const v = new Float32Array(8);
  v[hot] = 1;
  v[7] = 0.01 * (k % 5);
  return v;
};

export class World {
  readonly frameBuffers: Uint8Array[] = [];
  readonly images: Uint8Array[] = [];
  readonly templates: FaceTemplate[] = [];
  readonly progress: ProgressEvent[] = [];
  private prompt = 'please_wait';
  private promptAt = 0;
  private nowMs = 0;
  private embeds = 0;

  constructor(private readonly o: WorldOptions = {}) {}

  onProgress = (_id: string, e: ProgressEvent): void => {
    this.progress.push(e);
    if (e.event === 'prompt' && e.prompt) {
      this.prompt = e.prompt;
      this.promptAt = this.nowMs;
    }
  };

  wipes = 0;
  readonly landmarks: Float32Array[] = [];
  /**
   * the face track and frame time of every analysed image (undefined: analysed without a tracker, the reference photo),
   * the prompt shown then and the pose source the track's plan gave the face
   */
  readonly tracked: Array<{ track: FaceTrack | undefined; tsMs: number | undefined; prompt: string; pose?: PoseSource }> = [];

  readonly engine = {
    fusion: { threshold: 0.5 },
    wipeBuffers: (): void => {
      this.wipes++;
    },
    antispoofThreshold: 0.5 as number | undefined,
    analyzeFrame: (async (img: RgbImage): Promise<ScoredFaceAnalysis[]> => {
      this.images.push(img.data);
      this.tracked.push({ track: undefined, tsMs: undefined, prompt: this.prompt });
      return this.keep(this.scene(img)) as ScoredFaceAnalysis[];
    }) as RunnerEngine['analyzeFrame'],
    // a tracker on a real FaceTrack: the frame is counted, an offset recorded on pose frames, and the anti-spoof
    // score dropped on frames the plan does not score, as the engine's tracker does
    tracker: (opts?: FaceTrackOptions) => {
      const track = new FaceTrack(opts);
      return {
        next: async (img: RgbImage, o: TrackedFrameOptions = {}): Promise<FaceAnalysis[]> => {
          this.images.push(img.data);
          const entry: (typeof this.tracked)[number] = { track, tsMs: o.tsMs, prompt: this.prompt };
          this.tracked.push(entry);
          const faces = this.keep(this.scene(img));
          track.setPoseEveryFrame(o.poseEveryFrame ?? false);
          const plan = faces[0] && track.next(faces[0].box, o.tsMs, true);
          if (plan) entry.pose = plan.pose;
          if (plan && plan.pose === 'model') track.fromModel(faces[0].pose, faces[0].pose);
          if (plan && !plan.antispoof) delete faces[0].antispoof;
          if (!faces[0]) track.lost();
          return faces;
        },
        reset: () => track.reset(),
      };
    },
    embed: async (img: RgbImage): Promise<FaceTemplate> => {
      const hot = isReference(img) || this.o.person !== 'other' ? 0 : 3;
      const t = { feature: vec(hot, this.embeds++) };
      this.templates.push(t);
      return t;
    },
    compare: (a: FaceTemplate, b: FaceTemplate) => ({ similarity: cosine(a.feature, b.feature), perEmbedder: {} }),
  };

  private keep(faces: FaceAnalysis[]): FaceAnalysis[] {
    for (const f of faces) this.landmarks.push(f.landmarks68);
    return faces;
  }

  /** The faces in front of the camera now: the customer reacting to the prompt shown (or the reference photo). */
  private scene(img: RgbImage): FaceAnalysis[] {
    if (isReference(img)) return Array.from({ length: this.o.referenceFaces ?? 1 }, () => face(10, 90, 0, 1, 0.9));
    if (this.o.empty) return [];
    const dt = this.nowMs - this.promptAt;
    let yaw = 0;
    let eyes = 0.95;
    if (!this.o.passive) {
      const ramp = dt < 300 ? 0 : dt < 500 ? ((dt - 300) / 200) * 30 : dt < 1200 ? 30 : 0;
      if (this.prompt === 'turn_left') yaw = ramp;
      if (this.prompt === 'turn_right') yaw = -ramp;
      if (this.prompt === 'blink' && dt >= 300 && dt < 420) eyes = 0.02;
    }
    return [face(50, 110, yaw, eyes, this.o.antispoof ?? 0.9)];
  }

  readonly camera: FrameSource & { stopped: boolean } = {
    kind: 'replay',
    stopped: false,
    start: async () => {},
    stop: async () => {
      this.camera.stopped = true;
    },
    stats: (): FrameSourceStats => ({ frames: this.frameBuffers.length, drops: 0, fps: FPS, restarts: 0 }),
    health: (): CameraHealth => ({ status: 'ok' }),
    frames: (signal?: AbortSignal) => this.frameGen(signal),
  };

  private async *frameGen(signal?: AbortSignal): AsyncGenerator<Frame> {
    const n = this.o.frames ?? 600;
    for (let k = this.frameBuffers.length; k < n; k++) {
      if (signal?.aborted) return;
      if (this.o.hangAfter !== undefined && k >= this.o.hangAfter) {
        await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
        return;
      }
      await this.o.before?.[k]?.();
      if (this.o.paceMs) await new Promise((r) => setTimeout(r, this.o.paceMs));
      this.nowMs = (this.o.startTsMs ?? 0) + Math.round((k * 1000) / FPS);
      const data = new Uint8Array((W * H * 3) / 2).fill(120);
      this.frameBuffers.push(data);
      yield { seq: k, tsMs: this.nowMs, width: W, height: H, format: 'i420', data, encoding: FULL_BT601 };
    }
  }
}

function face(x1: number, x2: number, yaw: number, eyes: number, antispoof: number): FaceAnalysis {
  const w = x2 - x1;
  const y1 = x1 === 10 ? 10 : 30;
  const box = { x1, y1, x2, y2: y1 + w };
  return {
    box, score: 0.99, landmarks68: new Float32Array(136).fill(x1), points5: [],
    pose: { yaw, pitch: 0, roll: 0 }, eyes: { left: eyes, right: eyes },
    quality: { faceWidth: w, faceHeight: w, interEyeDistance: w / 3, sharpness: 500, brightness: 0.5, clippedFraction: 0, centreOffsetX: 0, centreOffsetY: 0 },
    antispoof,
  } as FaceAnalysis;
}

/** A real PNG (the runner decodes it with sharp); the fake engine decides what it shows. */
export async function referencePng(): Promise<Uint8Array> {
  const buf = await sharp({ create: { width: REF_SIZE, height: REF_SIZE, channels: 3, background: '#808080' } }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

export const allZero = (a: ArrayLike<number>): boolean => Array.prototype.every.call(a, (x: number) => x === 0);
