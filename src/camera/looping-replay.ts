import type { Logger } from '../lib/logger.ts';
import type { CameraHealth, Frame, FrameSource, FrameSourceStats } from './frame-source.ts';
import { ReplaySource } from './replay-source.ts';

/**
 * A recording played over and over: the replay camera with `camera.loop` (so `regterm run` on a recording serves
 * session after session), and a replay attacker looping a clip in front of the camera (`regterm eval replay-attack`).
 * Each pass is a fresh ReplaySource; frame numbers and timestamps continue across passes (the next pass starts one
 * frame interval after the previous pass's last frame), so the session clock never runs backwards. Stops after
 * `maxPasses` (default: never), or when a pass yields no frame.
 */
export class LoopingReplay implements FrameSource {
  readonly kind = 'replay' as const;
  private current: ReplaySource | undefined;
  private produced = 0;
  private stopping = false;

  constructor(private readonly o: { path: string; logger: Logger; maxPasses?: number; pace?: 'recorded' | 'fast' }) {}

  async start(): Promise<void> {
    this.current = this.pass();
    await this.current.start();
  }

  async *frames(signal?: AbortSignal): AsyncIterableIterator<Frame> {
    let offsetMs: number | undefined;
    const passes = this.o.maxPasses ?? Infinity;
    for (let pass = 0; pass < passes && !this.stopping && !signal?.aborted; pass++) {
      if (pass > 0) {
        await this.current?.stop();
        this.current = this.pass();
        await this.current.start();
      }
      let firstMs: number | undefined;
      let lastMs: number | undefined;
      let stepMs = 0;
      for await (const f of this.current!.frames(signal)) {
        firstMs ??= f.tsMs;
        offsetMs ??= f.tsMs;
        if (lastMs !== undefined) stepMs = f.tsMs - lastMs;
        lastMs = f.tsMs;
        yield { ...f, seq: this.produced++, tsMs: offsetMs + (f.tsMs - firstMs) };
      }
      if (firstMs === undefined || lastMs === undefined) return;
      offsetMs = (offsetMs ?? firstMs) + lastMs - firstMs + Math.max(stepMs, 1);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.current?.stop();
  }

  stats(): FrameSourceStats {
    return { ...(this.current?.stats() ?? { drops: 0, fps: 0, restarts: 0 }), frames: this.produced };
  }

  health(): CameraHealth {
    return this.current?.health() ?? { status: 'ok' };
  }

  private pass(): ReplaySource {
    return new ReplaySource({ path: this.o.path, pace: this.o.pace ?? 'fast', logger: this.o.logger });
  }
}
