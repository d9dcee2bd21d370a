import type { YuvEncoding } from './i420.ts';

/**
 * The camera seam (DESIGN.md §3). Every backend (rpicam, ffmpeg, replay) implements `FrameSource`; the session never
 * knows which one runs. The backend is chosen once, from config `camera` (create-frame-source.ts).
 *
 * CONTRACT (checked by test/unit/camera/frame-source-contract.ts against every backend that can run here):
 * - Constructors only assign. `start(signal)` opens the device (spawns the child, opens the recording); it rejects
 *   with a RegtermError when the source cannot be opened at all (missing binary, missing recording) and with a
 *   CanceledError if `signal` aborts first. Calling start twice rejects.
 * - `frames(signal)` is an async iterator (one reader at a time) of the NEWEST frame only: if the consumer is slower than the camera, older
 *   frames are dropped and counted in `stats().drops`; memory never grows with the backlog.
 *   Frames are tight I420 (stride = width, chroma (w+1)/2 × (h+1)/2) in the encoding the source states (`encoding`:
 *   rpicam limited range, ffmpeg and replay full range), `seq` strictly increasing (gaps = drops), `tsMs` non-decreasing.
 * - A canceled read: when `signal` aborts or `stop()` is called, the iterator ENDS (returns done) — it does not throw.
 *   A finite source (replay, or a video file without loop) also ends when its last frame has been read.
 * - `stop()` releases everything start() took (no child process, no open file, no timer) and is idempotent; frames
 *   already handed out stay valid (each frame owns its buffer; consumers zero it when done, it holds a face).
 * - `health()` reports `camera_unavailable` while no frame has arrived within the stall window (child dead, stalled
 *   or restarting); `ok` otherwise. Supervised backends restart their child with capped backoff + jitter.
 */
export type FrameFormat = 'i420' | 'rgb' | 'gray';

export interface Frame {
  /** per-source counter, starts at 0, increases by one per frame produced by the device (delivered or dropped) */
  readonly seq: number;
  /** capture (arrival) time, monotonic ms on the injected Clock — performance.now(), the session clock; replay: the recorded time */
  readonly tsMs: number;
  readonly width: number;
  readonly height: number;
  readonly format: FrameFormat;
  readonly data: Uint8Array;
  /** how the I420 values encode colour: what this source delivers (i420ToRgb applies it) */
  readonly encoding: YuvEncoding;
}

export interface FrameSourceStats {
  /** frames produced by the device since start */
  frames: number;
  /** frames replaced by a newer one before a consumer read them */
  drops: number;
  /** frames per second over the recent window (0 before two frames) */
  fps: number;
  /** child restarts since start (supervised backends) */
  restarts: number;
}

export type CameraHealth = { status: 'ok' } | { status: 'camera_unavailable'; reason: string; sinceMs: number };

export interface FrameSource {
  readonly kind: 'rpicam' | 'ffmpeg' | 'replay';
  start(signal?: AbortSignal): Promise<void>;
  frames(signal?: AbortSignal): AsyncIterableIterator<Frame>;
  stop(): Promise<void>;
  stats(): FrameSourceStats;
  health(): CameraHealth;
}
