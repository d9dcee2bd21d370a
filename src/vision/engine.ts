/**
 * The face engine: the per-frame tracker (`analyzeFrame`) and the matcher side (`embed`, `compare`).
 *
 * Lifecycle: the constructor only assigns; `start()` verifies and opens the models; `stop()` releases them.
 * Calls are sequential per engine (models keep one reusable input buffer each): await one call before the next.
 * Biometric data (images, landmarks, templates) is returned to the caller and never logged or stored here.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { CanceledError, RegtermError } from '../lib/errors.ts';
import { type Point, fivePoints } from './align.ts';
import { AntispoofModel } from './antispoof.ts';
import { type Detection, Detector, boxArea } from './detector.ts';
import { type Embedder, type FaceLocation, TemplateEmbedder } from './embedder.ts';
import { type EyeState, EyeModel } from './eyes.ts';
import type { RgbImage } from './image.ts';
import { IrisModel } from './iris.ts';
import type { Eye } from './lid-levels.ts';
import { LandmarkModel } from './landmarks.ts';
import { DEFAULT_MANIFEST_PATH, type Manifest, loadManifest } from './manifest.ts';
import { type FaceTemplate, type FusionConfig, type MatchScore, fuse, fusionFromManifest } from './matcher.ts';
import { ModelRegistry, type SessionTuning } from './model-registry.ts';
import { landmarkPose } from './landmark-pose.ts';
import { type Pose, PoseModel } from './pose.ts';
import type { FaceTrack, FramePlan, PoseSource } from './face-track.ts';
import { type Quality, measureQuality } from './quality.ts';
import type { Box } from './warp.ts';

export interface FaceAnalysis {
  box: Box;
  /** detector confidence 0–1 */
  score: number;
  /** 68 iBUG points, interleaved x,y in image pixels */
  landmarks68: Float32Array;
  /** 5 alignment points (subject's right eye, left eye, nose, right and left mouth corner) */
  points5: Point[];
  pose: Pose;
  /** where `pose` came from: set only when the frame was analysed with a `track` (fr_pose or landmarks + offset) */
  poseSource?: PoseSource;
  /**
   * where `box` came from, set only with a `track`: this frame's detector pass, or carried (the last detector box moved
   * with the landmarks; face-track.ts, DETECTOR: then `score` is that detector frame's and the frame has this face only)
   */
  boxSource?: 'detector' | 'landmarks';
  eyes: EyeState;
  /**
   * Lid opening relative to the eye's recent open level (1 = as open as usual; iris.ts, lid-levels.ts). Present only
   * when the iris model ran on this frame (a tracked primary face, the eyes its track's plan named: face-track.ts);
   * an eye is in it once its open level is known.
   */
  lids?: Partial<Record<Eye, number>>;
  quality: Quality;
  /**
   * passive anti-spoof: probability the face is live, 0–1. Absent only on a tracked primary face whose track
   * skipped the model on this frame (face-track.ts): no score, never a copied one.
   */
  antispoof?: number;
}

/** A face analysed without a track: every model ran on it, so it always has its anti-spoof score. */
export type ScoredFaceAnalysis = FaceAnalysis & { antispoof: number };

export interface AnalyzeOptions {
  maxFaces?: number;
  signal?: AbortSignal;
  /** the stream's track of its primary face (face-track.ts); absent = a single image, every model on every face */
  track?: FaceTrack;
  /** the frame's time, for the track's gap rule */
  tsMs?: number;
}

export interface FaceEngineOptions {
  manifestPath?: string;
  modelsDir?: string;
  tuning?: Partial<SessionTuning>;
  logger?: Logger;
  /** crop scale for the anti-spoof model (default: manifest) */
  antispoofCropScale?: number;
}

interface Loaded {
  manifest: Manifest;
  manifestSha256: string;
  registry: ModelRegistry;
  detector: Detector;
  landmarks: LandmarkModel;
  eyes: EyeModel;
  pose: PoseModel;
  antispoof: AntispoofModel;
  iris: IrisModel;
  embedders: Embedder[];
  fusion: FusionConfig;
}

export class FaceEngine {
  private readonly opts: FaceEngineOptions;
  private state: Loaded | undefined;

  constructor(opts: FaceEngineOptions = {}) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    if (this.state) return;
    const manifestPath = this.opts.manifestPath ?? DEFAULT_MANIFEST_PATH;
    const { manifest, bytes } = await loadManifest(manifestPath);
    const registry = new ModelRegistry({
      manifest,
      manifestDir: dirname(manifestPath),
      modelsDir: this.opts.modelsDir,
      tuning: this.opts.tuning,
      logger: this.opts.logger,
    });
    try {
      const fusion = fusionFromManifest(manifest);
      const embedders: Embedder[] = [];
      for (const name of Object.keys(fusion.weights)) embedders.push(new TemplateEmbedder(await registry.load(name)));
      this.state = {
        manifest,
        manifestSha256: createHash('sha256').update(bytes).digest('hex'),
        registry,
        detector: new Detector(await registry.load('detect')),
        landmarks: new LandmarkModel(await registry.load('landmark')),
        eyes: new EyeModel(await registry.load('eye')),
        pose: new PoseModel(await registry.load('pose')),
        antispoof: new AntispoofModel(await registry.load('liveness'), this.opts.antispoofCropScale),
        iris: new IrisModel(await registry.load('iris')),
        embedders,
        fusion,
      };
    } catch (e: unknown) {
      await registry.close();
      throw e;
    }
    this.opts.logger?.info({ models: Object.keys(manifest.models).length }, 'face engine started');
  }

  async stop(): Promise<void> {
    const s = this.state;
    this.state = undefined;
    if (s) await s.registry.close();
  }

  /** sha256 of the manifest in use (the `models` field of a signed result). */
  get manifestSha256(): string {
    return this.loaded().manifestSha256;
  }

  get fusion(): FusionConfig {
    return this.loaded().fusion;
  }

  /**
   * The deployed anti-spoof threshold (manifest thresholds.antispoof), if the manifest has one: the session compares its
   * aggregate of per-frame scores to it (policy antispoof, docs/antispoof.md).
   */
  get antispoofThreshold(): number | undefined {
    return this.loaded().manifest.thresholds.antispoof?.value;
  }

  /** Detector pass only: faces, best score first. */
  async detect(img: RgbImage): Promise<Detection[]> {
    return this.loaded().detector.detect(img);
  }

  /**
   * Every face in the frame, largest first, with landmarks, pose, eyes, quality and anti-spoof score.
   * `maxFaces` limits the per-face work to the largest N (the session only needs to know there is a second face).
   * `track` (frames that are a stream: one track per stream, `tsMs` the frame's time for its gap rule): the largest
   * face runs what the track's plan says (face-track.ts): its pose from the hybrid source (fr_pose on pose frames,
   * landmark angles + the recent offset in between, fr_pose on every frame while the track's owner asks for it; it
   * carries `poseSource`) and the anti-spoof model on alternate
   * frames that do not run fr_pose (the others have no `antispoof`), and the iris model on the eyes the plan names
   * (`lids`); other faces still run every model but the iris one. On a track the detector itself skips the costly
   * frames (face-track.ts, DETECTOR): on those the primary face's box is carried, moved with its landmarks (it
   * carries `boxSource`). Without a track every face runs every model but the iris one and the result is exactly the
   * stateless one.
   */
  async analyzeFrame(img: RgbImage, opts?: AnalyzeOptions & { track?: undefined }): Promise<ScoredFaceAnalysis[]>;
  async analyzeFrame(img: RgbImage, opts: AnalyzeOptions): Promise<FaceAnalysis[]>;
  async analyzeFrame(img: RgbImage, opts: AnalyzeOptions = {}): Promise<FaceAnalysis[]> {
    const s = this.loaded();
    const carriedFace = opts.track ? await this.carriedFace(opts.track, img, opts.tsMs) : undefined;
    const carried = carriedFace?.detection;
    const dets = carried ? [carried] : (await s.detector.detect(img)).sort((a, b) => boxArea(b.box) - boxArea(a.box));
    if (!carried) opts.track?.detected(dets.length);
    const faces: FaceAnalysis[] = [];
    for (const [i, d] of dets.slice(0, opts.maxFaces ?? dets.length).entries()) {
      if (opts.signal?.aborted) throw new CanceledError('analyzeFrame canceled');
      const landmarks68 = (i === 0 ? carriedFace?.landmarks68 : undefined) ?? (await s.landmarks.predict(img, d.box));
      const track = i === 0 ? opts.track : undefined;
      track?.follow(d, landmarks68);
      const tracked = track ? await this.followTrack(track, img, d.box, landmarks68, opts.tsMs) : undefined;
      const eyes = (i === 0 ? carriedFace?.eyes : undefined) ?? (await s.eyes.predict(img, landmarks68));
      faces.push({
        box: d.box,
        score: d.score,
        landmarks68,
        points5: fivePoints(landmarks68),
        pose: tracked?.pose ?? (await s.pose.predict(img, d.box)),
        ...(tracked ? { poseSource: tracked.plan.pose, boxSource: boxSourceOf(carried) } : {}),
        eyes,
        ...(track && tracked ? await this.trackedLids(track, tracked.plan, img, landmarks68, eyes, opts.tsMs) : {}),
        quality: measureQuality(img, d.box, landmarks68),
        ...(tracked && !tracked.plan.antispoof ? {} : { antispoof: await s.antispoof.score(img, d.box) }),
      });
    }
    return faces;
  }

  /**
   * The primary face from the box its track carries (face-track.ts, DETECTOR), with its landmarks and eyes; undefined
   * when the track carries none or fr_eye reads either eye below the track's `carryEyesAbove` on it (the frame then
   * runs the detector: a closed or doubtful eye is read from the detector's box, as without a carry).
   */
  private async carriedFace(
    track: FaceTrack, img: RgbImage, tsMs: number | undefined,
  ): Promise<{ detection: Detection; landmarks68: Float32Array; eyes: EyeState } | undefined> {
    const detection = track.carry(img.width, img.height, tsMs);
    if (!detection) return undefined;
    const landmarks68 = await this.loaded().landmarks.predict(img, detection.box);
    const eyes = await this.loaded().eyes.predict(img, landmarks68);
    if (track.eyesCarry(eyes)) return { detection, landmarks68, eyes };
    landmarks68.fill(0);
    return undefined;
  }

  /** The primary face on its track: the frame's plan, and its pose (fr_pose on pose frames, else landmarks + offset). */
  private async followTrack(
    track: FaceTrack, img: RgbImage, box: Box, landmarks68: Float32Array, tsMs: number | undefined,
  ): Promise<{ pose: Pose; plan: FramePlan }> {
    const fit = landmarkPose(landmarks68);
    const plan = track.next(box, tsMs, fit !== null);
    if (plan.pose === 'landmarks' && fit) return { pose: track.fromLandmarks(fit), plan };
    return { pose: track.fromModel(await this.loaded().pose.predict(img, box), fit), plan };
  }

  /** The primary face's lids on its track: the eyes the plan names, relative to their open levels (none: {}). */
  private async trackedLids(
    track: FaceTrack, plan: FramePlan, img: RgbImage, landmarks68: Float32Array, eyes: EyeState, tsMs: number | undefined,
  ): Promise<{ lids?: Partial<Record<Eye, number>> }> {
    const measure = track.lidEyes(plan, eyes);
    if (measure.length === 0) return {};
    const lids: Partial<Record<Eye, number>> = {};
    for (const eye of measure) {
      const relative = track.lidReading(eye, tsMs, await this.loaded().iris.opening(img, landmarks68, eye), plan);
      if (relative !== undefined) lids[eye] = relative;
    }
    return { lids };
  }

  /**
   * The largest face and its 5 points, or null when there is none: the reference-photo path. Largest, not
   * best-scoring: on photos the detector often scores a small background face highest.
   */
  async largestFace(
    img: RgbImage,
  ): Promise<{ detection: Detection; points5: Point[]; landmarks68: Float32Array; faces: number } | null> {
    const dets = await this.loaded().detector.detect(img);
    if (dets.length === 0) return null;
    const detection = dets.reduce((a, b) => (boxArea(b.box) > boxArea(a.box) ? b : a));
    const landmarks68 = await this.loaded().landmarks.predict(img, detection.box);
    return { detection, points5: fivePoints(landmarks68), landmarks68, faces: dets.length };
  }

  /** The template of one face: a unit vector per embedder. Run only on selected frames. */
  async embed(img: RgbImage, face: FaceLocation): Promise<FaceTemplate> {
    const t: Record<string, Float32Array> = {};
    for (const e of this.loaded().embedders) t[e.name] = await e.embed(img, face);
    return t;
  }

  compare(a: FaceTemplate, b: FaceTemplate): MatchScore {
    return fuse(a, b, this.loaded().fusion);
  }

  /**
   * Zero every model's reusable input buffer: they hold the last face crops between calls. The session shell calls
   * it when a session ends (biometric hygiene; ONNX Runtime's own internal buffers are outside our reach).
   */
  wipeBuffers(): void {
    const s = this.state;
    if (!s) return;
    for (const m of [s.detector, s.landmarks, s.eyes, s.pose, s.antispoof, s.iris]) m.wipe();
    for (const e of s.embedders) e.wipe?.();
  }

  /** The registry, for benchmarks that time single models. */
  get registry(): ModelRegistry {
    return this.loaded().registry;
  }

  private loaded(): Loaded {
    if (!this.state) throw new RegtermError('face engine used before start()');
    return this.state;
  }
}

function boxSourceOf(carried: Detection | undefined): 'detector' | 'landmarks' {
  return carried ? 'landmarks' : 'detector';
}
