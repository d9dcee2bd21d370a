import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../lib/logger.ts';
import { CanceledError, EXIT, RegtermError, errorMessage } from '../lib/errors.ts';
import { Backoff, type BackoffOptions } from '../lib/backoff.ts';
import { FrameRate } from './frame-rate.ts';
import { FrameSplitter } from './frame-splitter.ts';
import { SYSTEM_CLOCK, type Clock } from '../lib/clock.ts';
import type { CameraHealth, Frame, FrameSource, FrameSourceStats } from './frame-source.ts';
import { isTight, toTightI420, type I420Layout, type YuvEncoding } from './i420.ts';
import { NewestFrameMailbox } from './newest-frame-mailbox.ts';

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface ChildFrameSourceOptions {
  kind: 'rpicam' | 'ffmpeg';
  command: string;
  /** argument array: no shell is involved, so device paths and file names are never interpreted */
  args: readonly string[];
  /** the layout of one frame on the child's stdout */
  layout: I420Layout;
  /** how the child's YUV values encode colour (stamped on every frame) */
  encoding: YuvEncoding;
  logger: Logger;
  /** no frame for this long → the child is stalled: it is killed and restarted (default 3000) */
  stallMs?: number;
  backoff?: BackoffOptions;
  /** a clean exit (code 0) ends the stream instead of restarting (a video file played once) */
  endOnCleanExit?: boolean;
  /** SIGTERM → SIGKILL grace on stop (default 2000) */
  killTimeoutMs?: number;
  spawn?: SpawnFn;
  clock?: Clock;
}

interface RawFrame {
  seq: number;
  tsMs: number;
  raw: Uint8Array;
}

const STDERR_LINE_MAX = 500;

/**
 * A FrameSource fed by a child process writing I420 buffers to stdout (rpicam-vid, ffmpeg).
 *
 * INVARIANTS:
 * - At most one child is alive; every event from an older child is ignored (`child !== this.child`).
 * - A child that exits or stalls (no frame for `stallMs`) is replaced after a capped, jittered backoff; the attempt
 *   counter resets when a frame arrives. While replacing, health() says `camera_unavailable`.
 * - stop() closes the mailbox (the consumer's loop ends), clears every timer and resolves only after the child has
 *   closed (SIGTERM, SIGKILL after `killTimeoutMs`), so no process outlives it.
 * - A frame holds a face: frames dropped for a newer one are zeroed.
 */
export class ChildFrameSource implements FrameSource {
  readonly kind: 'rpicam' | 'ffmpeg';
  private readonly o: ChildFrameSourceOptions;
  private readonly spawnFn: SpawnFn;
  private readonly clock: Clock;
  private readonly mailbox = new NewestFrameMailbox<RawFrame>((f) => f.raw.fill(0));
  private readonly splitter: FrameSplitter;
  private readonly rate = new FrameRate();
  private child: ChildProcess | undefined;
  private started = false;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private seq = 0;
  private readonly backoff: Backoff;
  private restarts = 0;
  private stallTimer: unknown;
  private restartTimer: unknown;
  private unavailable: { reason: string; sinceMs: number } | undefined;
  private lastStderr = '';

  constructor(options: ChildFrameSourceOptions) {
    this.kind = options.kind;
    this.o = options;
    this.spawnFn = options.spawn ?? nodeSpawn;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.backoff = new Backoff(options.backoff ?? { initialMs: 200, maxMs: 10_000 });
    this.splitter = new FrameSplitter(options.layout.frameBytes);
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) throw new Error(`${this.kind} camera already started`);
    if (signal?.aborted) throw new CanceledError('camera start canceled');
    this.started = true;
    await this.spawnChild(true);
    if (signal?.aborted) {
      await this.stop();
      throw new CanceledError('camera start canceled');
    }
  }

  async *frames(signal?: AbortSignal): AsyncIterableIterator<Frame> {
    if (!this.started) throw new Error(`${this.kind} camera frames() before start()`);
    const { width, height } = this.o.layout;
    const tight = isTight(this.o.layout);
    for (;;) {
      const item = await this.mailbox.take(signal);
      if (!item) return;
      const data = tight ? item.raw : toTightI420(item.raw, this.o.layout);
      if (!tight) item.raw.fill(0);
      yield { seq: item.seq, tsMs: item.tsMs, width, height, format: 'i420', data, encoding: this.o.encoding };
    }
  }

  /** Resolves when the child has closed; concurrent and repeated calls share one stop. */
  stop(): Promise<void> {
    if (!this.started) return Promise.resolve();
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<void> {
    this.stopping = true;
    this.clock.clearTimeout(this.stallTimer);
    this.clock.clearTimeout(this.restartTimer);
    this.mailbox.close(true);
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const kill = this.clock.setTimeout(() => child.kill('SIGKILL'), this.o.killTimeoutMs ?? 2000);
      child.once('close', () => {
        this.clock.clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
    this.o.logger.info({ pid: child.pid }, 'camera stopped');
  }

  stats(): FrameSourceStats {
    return { frames: this.seq, drops: this.mailbox.drops, fps: this.rate.fps(), restarts: this.restarts };
  }

  health(): CameraHealth {
    return this.unavailable ? { status: 'camera_unavailable', ...this.unavailable } : { status: 'ok' };
  }

  private async spawnChild(first: boolean): Promise<void> {
    const { command, args, logger } = this.o;
    const child = this.spawnFn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (child === this.child) this.splitter.push(chunk, (raw) => this.onRawFrame(raw));
    });
    if (child.stderr) {
      createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
        if (!line.trim()) return;
        this.lastStderr = line.slice(0, STDERR_LINE_MAX);
        logger.info({ stream: 'stderr', pid: child.pid, line: this.lastStderr }, 'camera child');
      });
    }
    child.once('close', (code, sig) => this.onClose(child, code, sig));
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (e: unknown) {
      // 'close' still follows a failed spawn, and schedules the restart; only the first attempt is fatal.
      if (first) {
        this.stopping = true;
        this.mailbox.close(true);
        throw new RegtermError(`camera: cannot run ${command}: ${errorMessage(e)}`, EXIT.camera, { cause: e });
      }
      return;
    }
    if (this.stopping) return; // stop() raced the spawn; it is already waiting for this child to close
    child.on('error', (e: unknown) => logger.warn({ err: e, pid: child.pid }, 'camera child error'));
    logger.info({ pid: child.pid, command, attempt: this.backoff.attempts }, 'camera child started');
    this.armStallTimer(child);
  }

  private onRawFrame(raw: Uint8Array): void {
    if (this.stopping) {
      raw.fill(0); // written between SIGTERM and exit: nobody will read it
      return;
    }
    const tsMs = this.clock.now();
    this.rate.add(tsMs);
    this.backoff.reset();
    if (this.unavailable) {
      this.o.logger.info({ downMs: tsMs - this.unavailable.sinceMs }, 'camera available');
      this.unavailable = undefined;
    }
    if (this.child) this.armStallTimer(this.child);
    this.mailbox.put({ seq: this.seq++, tsMs, raw });
  }

  private armStallTimer(child: ChildProcess): void {
    this.clock.clearTimeout(this.stallTimer);
    const stallMs = this.o.stallMs ?? 3000;
    this.stallTimer = this.clock.setTimeout(() => {
      if (child !== this.child || this.stopping) return;
      this.markUnavailable(`no frame for ${stallMs} ms`);
      this.o.logger.warn({ pid: child.pid, stallMs }, 'camera stalled; killing child');
      child.kill('SIGKILL');
    }, stallMs);
  }

  private onClose(child: ChildProcess, code: number | null, sig: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    this.clock.clearTimeout(this.stallTimer);
    this.splitter.reset();
    if (this.stopping) return;
    if (this.o.endOnCleanExit && code === 0) {
      this.o.logger.info({ pid: child.pid }, 'camera stream ended');
      this.mailbox.close();
      return;
    }
    const said = this.lastStderr ? `; last stderr: ${this.lastStderr}` : '';
    this.markUnavailable(`child exited (code ${code ?? 'none'}, signal ${sig ?? 'none'})${said}`);
    const delay = this.backoff.next();
    this.restarts++;
    this.o.logger.warn({ pid: child.pid, code, signal: sig, restartInMs: delay, restarts: this.restarts }, 'camera child exited');
    this.restartTimer = this.clock.setTimeout(() => {
      if (!this.stopping) void this.spawnChild(false);
    }, delay);
  }

  private markUnavailable(reason: string): void {
    this.unavailable ??= { reason, sinceMs: this.clock.now() };
  }
}
