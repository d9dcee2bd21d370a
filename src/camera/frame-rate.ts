/** Frames per second over the last `window` frame timestamps (a sliding window, bounded memory). */
export class FrameRate {
  private readonly stamps: number[] = [];

  constructor(private readonly window = 30) {}

  add(tsMs: number): void {
    this.stamps.push(tsMs);
    if (this.stamps.length > this.window) this.stamps.shift();
  }

  fps(): number {
    const n = this.stamps.length;
    if (n < 2) return 0;
    const span = this.stamps[n - 1] - this.stamps[0];
    return span > 0 ? ((n - 1) * 1000) / span : 0;
  }
}
