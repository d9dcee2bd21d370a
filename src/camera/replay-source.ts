import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../lib/logger.ts';
import { CanceledError, errorMessage } from '../lib/errors.ts';
import type { SpawnFn } from './child-frame-source.ts';
import { FrameRate } from './frame-rate.ts';
import { SYSTEM_CLOCK, type Clock } from '../lib/clock.ts';
import type { CameraHealth, Frame, FrameSource, FrameSourceStats } from './frame-source.ts';
import { NewestFrameMailbox } from './newest-frame-mailbox.ts';
import { readRecordingFrames, recordingEncoding } from './recording-frames.ts';
import { recordingFromVideo } from './recording-import.ts';
import { loadRecording, type Recording } from './recording.ts';

/**
 * Plays a recording (recording.ts) as a FrameSource. Frame `seq` is the frame's index in the recording and `tsMs`
 * its recorded time, so the same recording always yields the same frames with the same numbers.
 * - pace 'fast': every frame, in lockstep with the consumer (no drops): fully deterministic, for tests and replay.
 * - pace 'recorded': frames are released at their recorded times (relative to start) through the newest-frame
 *   mailbox, like a live camera: a slow consumer sees drops, exactly as on the terminal.
 * The iterator ends after the last frame. start() rejects with a UsageError for a missing or invalid recording.
 */
export interface ReplayOptions {
  /** a recording directory, or a video file (replayed like an import of it, without ground truth) */
  path: string;
  pace: 'recorded' | 'fast';
  logger: Logger;
  clock?: Clock;
  spawn?: SpawnFn;
  ffmpegBin?: string;
}

export class ReplaySource implements FrameSource {
  readonly kind = 'replay' as const;
  private readonly clock: Clock;
  private readonly ac = new AbortController();
  private readonly mailbox = new NewestFrameMailbox<Frame>((f) => f.data.fill(0));
  private readonly rate = new FrameRate();
  private rec: Recording | undefined;
  private reader: AsyncGenerator<Uint8Array> | undefined;
  private pump: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private produced = 0;
  private failure: { reason: string; sinceMs: number } | undefined;

  constructor(private readonly o: ReplayOptions) {
    this.clock = o.clock ?? SYSTEM_CLOCK;
  }

  /** the loaded recording (after start) */
  get recording(): Recording | undefined {
    return this.rec;
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.rec) throw new Error('replay already started');
    if (signal?.aborted) throw new CanceledError('replay start canceled');
    const isDir = await stat(this.o.path).then((s) => s.isDirectory(), () => true); // missing: loadRecording says why
    this.rec = isDir ? await loadRecording(this.o.path) : await recordingFromVideo({ video: this.o.path });
    const dir = isDir ? this.o.path : dirname(this.o.path);
    this.reader = readRecordingFrames(dir, this.rec, this.ac.signal, this.o.spawn, this.o.ffmpegBin);
    this.o.logger.info({ path: this.o.path, frames: this.rec.frames.count, pace: this.o.pace }, 'replay started');
    if (this.o.pace === 'recorded') this.pump = this.runPump(this.rec, this.reader);
  }

  async *frames(signal?: AbortSignal): AsyncIterableIterator<Frame> {
    const rec = this.rec;
    const reader = this.reader;
    if (!rec || !reader) throw new Error('replay frames() before start()');
    if (this.o.pace === 'recorded') {
      for (;;) {
        const f = await this.mailbox.take(signal);
        if (!f) return;
        yield f;
      }
    }
    while (!signal?.aborted && !this.ac.signal.aborted) {
      const next = await reader.next();
      if (next.done) return;
      yield this.frame(rec, next.value);
    }
  }

  /** Resolves when the reader (file or ffmpeg child) is released; concurrent and repeated calls share one stop. */
  stop(): Promise<void> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<void> {
    this.ac.abort();
    this.mailbox.close(true);
    await this.reader?.return(undefined);
    await this.pump;
  }

  stats(): FrameSourceStats {
    return { frames: this.produced, drops: this.mailbox.drops, fps: this.rate.fps(), restarts: 0 };
  }

  health(): CameraHealth {
    return this.failure ? { status: 'camera_unavailable', ...this.failure } : { status: 'ok' };
  }

  private frame(rec: Recording, data: Uint8Array): Frame {
    const seq = this.produced++;
    const tsMs = rec.timestampsMs[seq];
    this.rate.add(tsMs);
    return { seq, tsMs, width: rec.width, height: rec.height, format: 'i420', data, encoding: recordingEncoding(rec) };
  }

  private async runPump(rec: Recording, reader: AsyncGenerator<Uint8Array>): Promise<void> {
    const t0 = this.clock.now();
    try {
      for await (const data of reader) {
        const due = t0 + rec.timestampsMs[this.produced] - this.clock.now();
        if (due > 0) await this.sleep(due);
        if (this.ac.signal.aborted) return;
        this.mailbox.put(this.frame(rec, data));
      }
    } catch (e: unknown) {
      this.failure = { reason: errorMessage(e), sinceMs: this.clock.now() };
      this.o.logger.error({ err: e }, 'replay failed');
    } finally {
      this.mailbox.close();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.ac.signal;
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.clock.clearTimeout(handle);
        resolve();
      };
      const handle = this.clock.setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
