import type { CameraHealth, Frame, FrameSource, FrameSourceStats } from '../../../src/camera/frame-source.ts';
import { ReplaySource } from '../../../src/camera/replay-source.ts';
import type { Logger } from '../../../src/lib/logger.ts';
import type { LedChange } from '../../../src/panel/sim-panel.ts';
import type { VirtualClock } from './lit-clock.ts';

/**
 * A test camera for the light challenge (issue #5): a real clip played through `ReplaySource` (pace 'fast', lockstep)
 * as if a live camera watched the customer while the terminal's white LED ring flashed. There are no LEDs or camera
 * here, so this is the physics stand-in, kept small on purpose.
 *
 * TIME: frame k of the clip is captured at clock time t0 + recorded time k, where t0 is the clock's time when the
 * first frame is read. Before handing a frame out the source advances the virtual clock to that time, so the
 * session's PatternPlayer (and its tick timer) step exactly as they would in real time; then it asks the
 * illuminator whether the LED is lit at that instant. Frame `tsMs` is on the clock (a live camera's contract).
 *
 * LIGHT MODEL: the ring adds light in proportion to the surface's reflectance, which we approximate by the pixel's
 * own luma (albedo ~ Y / 255; the ambient light is already in Y):
 *     Y' = min(255, round(Y + gain * w(x, y) * Y / 255))
 * `gain` = luma levels added to a white surface where the ring's light is strongest. The ring is ~0.5 m from the
 * face and the background 1.5-2 m away (inverse square: ~1/10), and the quality gate centres the face, so the
 * weight falls from 1 at the frame centre to FAR_FRACTION away from it: w = far + (1 - far) * exp(-r^2 / 2 s^2),
 * r = distance from the centre in frame widths/heights, s = NEAR_SIGMA. Chroma is untouched (white light).
 * LATENCY: LED rise + exposure/readout delay the effect by `delayFrames` (0-3) frames: frame k shows the LED state
 * at frame k - delay.
 */
export type Illuminator = (tMs: number) => boolean;

export interface LitReplayOptions {
  path: string;
  logger: Logger;
  clock: VirtualClock;
  /** is the LED lit at clock time t (the session's own SimLeds, or another session's recorded LED history) */
  illuminator: Illuminator;
  /** luma levels added to a white surface at the centre of the lit zone; 0 = no LED */
  gain: number;
  /** LED + exposure latency, 0-3 frames (default 1) */
  delayFrames?: number;
}

/** weight of the ring's light on the background, relative to the face at ~0.5 m (inverse square, 1.5-2 m) */
const FAR_FRACTION = 0.1;
/** width of the lit zone around the frame centre, in frame sizes */
const NEAR_SIGMA = 0.3;

export class LitReplaySource implements FrameSource {
  readonly kind = 'replay' as const;
  /** per frame handed out: was the LED on for it (after the delay; with gain 0 it changed nothing) */
  readonly litFrames: boolean[] = [];
  private readonly inner: ReplaySource;
  private readonly ledStates: boolean[] = [];
  private weights: Float32Array | undefined;
  private t0: number | undefined;

  constructor(private readonly o: LitReplayOptions) {
    this.inner = new ReplaySource({ path: o.path, pace: 'fast', logger: o.logger });
  }

  start(signal?: AbortSignal): Promise<void> {
    return this.inner.start(signal);
  }

  async *frames(signal?: AbortSignal): AsyncIterableIterator<Frame> {
    const delay = this.o.delayFrames ?? 1;
    for await (const f of this.inner.frames(signal)) {
      this.t0 ??= this.o.clock.now() - f.tsMs;
      const tsMs = this.t0 + f.tsMs;
      this.o.clock.advanceTo(tsMs);
      this.ledStates.push(this.o.illuminator(tsMs));
      const lit = this.ledStates.length > delay && this.ledStates[this.ledStates.length - 1 - delay];
      if (this.ledStates.length > delay) this.ledStates.shift();
      if (lit && this.o.gain > 0) this.addLight(f.data, f.width, f.height);
      this.litFrames.push(lit);
      yield { ...f, tsMs };
    }
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  stats(): FrameSourceStats {
    return this.inner.stats();
  }

  health(): CameraHealth {
    return this.inner.health();
  }

  /** the model above, on the tight I420 luma plane (the first width*height bytes) */
  private addLight(data: Uint8Array, width: number, height: number): void {
    const w = this.weightMap(width, height);
    const k = this.o.gain / 255;
    for (let i = 0; i < w.length; i++) data[i] = Math.min(255, Math.round(data[i] + k * w[i] * data[i]));
  }

  private weightMap(width: number, height: number): Float32Array {
    if (this.weights?.length === width * height) return this.weights;
    const far = FAR_FRACTION;
    const s2 = 2 * NEAR_SIGMA ** 2;
    const w = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      const dy = (y + 0.5) / height - 0.5;
      for (let x = 0; x < width; x++) {
        const dx = (x + 0.5) / width - 0.5;
        w[y * width + x] = far + (1 - far) * Math.exp(-(dx * dx + dy * dy) / s2);
      }
    }
    this.weights = w;
    return w;
  }
}

/** An LED's state at time t from a recorded history (SimLeds.history of an earlier session): the replayed attack. */
export function recordedIlluminator(history: readonly LedChange[], led: string): Illuminator {
  const changes = history.filter((c) => c.led === led);
  return (tMs) => {
    let on = false;
    for (const c of changes) {
      if (c.tMs > tMs) break;
      on = c.on;
    }
    return on;
  };
}
