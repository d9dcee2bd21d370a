/**
 * The face engine: the models behind one call each, a single image's analysis (`analyzeFrame`), a camera stream's
 * tracker (`tracker()`, face-tracker.ts) and the matcher side (`embed`, `compare`).
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
import { type Detection, Detector, boxArea, largestFirst } from './detector.ts';
import { type Embedder, type FaceLocation, TemplateEmbedder } from './embedder.ts';
import { type EyeState, EyeModel } from './eyes.ts';
import type { RgbImage } from './image.ts';
import { IrisModel } from './iris.ts';
import type { Eye } from './lid-levels.ts';
import { LandmarkModel } from './landmarks.ts';
import { DEFAULT_MANIFEST_PATH, type Manifest, loadManifest } from './manifest.ts';
import { type FaceTemplate, type FusionConfig, type MatchScore, fuse, fusionFromManifest } from './matcher.ts';
import { ModelRegistry, type SessionTuning } from './model-registry.ts';
import { type Pose, PoseModel } from './pose.ts';
import { FaceTrack, type FaceTrackOptions } from './face-track.ts';
import type { FaceAnalysis, ScoredFaceAnalysis } from './face-analysis.ts';
import { FaceTracker } from './face-tracker.ts';
import { measureQuality } from './quality.ts';
import type { Box } from './warp.ts';

export type { FaceAnalysis, ScoredFaceAnalysis } from './face-analysis.ts';

export interface AnalyzeOptions {
  maxFaces?: number;
  signal?: AbortSignal;
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
   * Every face in the frame, largest first, each through every model but the iris one (landmarks, pose, eyes, quality,
   * anti-spoof score): a single image. `maxFaces` limits the per-face work to the largest N (the session only needs to
   * know there is a second face). Frames that are a stream go through a `tracker()` instead.
   */
  async analyzeFrame(img: RgbImage, opts: AnalyzeOptions = {}): Promise<ScoredFaceAnalysis[]> {
    const dets = largestFirst(await this.loaded().detector.detect(img));
    const faces: ScoredFaceAnalysis[] = [];
    for (const d of dets.slice(0, opts.maxFaces ?? dets.length)) {
      if (opts.signal?.aborted) throw new CanceledError('analyzeFrame canceled');
      faces.push(await this.analyzeFace(img, d));
    }
    return faces;
  }

  /**
   * One camera stream's tracker (face-tracker.ts): one call per frame, the stream's primary face on a face track whose
   * plan says which costly models run (face-track.ts).
   */
  tracker(opts: FaceTrackOptions = {}): FaceTracker {
    return new FaceTracker(this, new FaceTrack(opts));
  }

  /** One detected face through every model but the iris one. */
  async analyzeFace(img: RgbImage, d: Detection): Promise<ScoredFaceAnalysis> {
    const s = this.loaded();
    const landmarks68 = await s.landmarks.predict(img, d.box);
    const eyes = await s.eyes.predict(img, landmarks68);
    return {
      box: d.box,
      score: d.score,
      landmarks68,
      points5: fivePoints(landmarks68),
      pose: await s.pose.predict(img, d.box),
      eyes,
      quality: measureQuality(img, d.box, landmarks68),
      antispoof: await s.antispoof.score(img, d.box),
    };
  }

  /** fr_landmark: 68 points of the face in `box`. */
  async landmarks(img: RgbImage, box: Box): Promise<Float32Array> {
    return this.loaded().landmarks.predict(img, box);
  }

  /** fr_eye: each eye's open probability. */
  async eyeState(img: RgbImage, landmarks68: Float32Array): Promise<EyeState> {
    return this.loaded().eyes.predict(img, landmarks68);
  }

  /** fr_pose: the head pose of the face in `box`. */
  async headPose(img: RgbImage, box: Box): Promise<Pose> {
    return this.loaded().pose.predict(img, box);
  }

  /** fr_liveness: the probability the face in `box` is live. */
  async antispoof(img: RgbImage, box: Box): Promise<number> {
    return this.loaded().antispoof.score(img, box);
  }

  /** The iris model: one eye's lid opening (iris.ts). */
  async lidOpening(img: RgbImage, landmarks68: Float32Array, eye: Eye): Promise<number> {
    return this.loaded().iris.opening(img, landmarks68, eye);
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

/** Fusion weights, score normalisation and threshold from manifest thresholds.match (fr_feature alone when absent). */
function fusionFrom(manifest: Manifest): FusionConfig {
  const m = manifest.thresholds.match;
  const weights = (m?.weights as Record<string, number> | undefined) ?? { feature: 1 };
  const norm = m?.norm as FusionConfig['norm'];
  return { weights, norm, threshold: m?.value ?? 0.3 };
}
