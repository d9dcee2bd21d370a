import { createHmac } from 'node:crypto';
import type { SessionPolicy } from './policy.ts';

/**
 * Light challenge. The LEDs flash an on/off sequence derived from the session nonce; the face region's luminance must
 * follow it. A photo stays constant and a replayed video follows whatever sequence was recorded, not this one.
 *
 * Sequence: HMAC-SHA256(key = nonce, msg = "regterm/light/v1" || salt) → the first `dataBits` bits, Manchester-coded
 * (1 → on,off; 0 → off,on). The salt comes from the session CSPRNG, so even a leaked nonce does not reveal the
 * sequence in advance; Manchester coding makes every sequence balanced with a transition per bit, so a slow
 * auto-exposure drift cannot correlate with it.
 */
export interface LightSchedule {
  /** session-clock time the first chip starts */
  startMs: number;
  chipMs: number;
  /** 1 = LEDs on, 0 = off */
  chips: number[];
}

export function lightChips(nonce: string | Uint8Array, salt: Uint8Array, dataBits: number): number[] {
  const mac = createHmac('sha256', nonce).update('regterm/light/v1').update(salt).digest();
  const chips: number[] = [];
  for (let i = 0; i < dataBits; i++) {
    const bit = (mac[i >> 3] >> (7 - (i & 7))) & 1;
    chips.push(bit, 1 - bit);
  }
  return chips;
}

export function scheduleEndMs(s: LightSchedule): number {
  return s.startMs + s.chips.length * s.chipMs;
}

/** The chip index lit at time t, or -1 outside the sequence. */
export function chipIndexAt(s: LightSchedule, tMs: number): number {
  const i = Math.floor((tMs - s.startMs) / s.chipMs);
  return i >= 0 && i < s.chips.length ? i : -1;
}

export interface LumaSample {
  tsMs: number;
  luma: number;
}

export interface LightResult {
  passed: boolean;
  /** best Pearson correlation over the lag window (detrended luminance vs expected chips) */
  correlation: number;
  lagMs: number;
  /** fraction of chips with at least one sample at the best lag */
  coverage: number;
  /** mean luminance (LED on) - mean luminance (LED off) at the best lag */
  deltaLuma: number;
}

/**
 * Correlate luminance samples with the schedule, searching camera latency 0..maxLagMs: a frame captured at t shows
 * the chip lit at t - lag. Passes when the best lag gives correlation >= minCorrelation, coverage >= minCoverage and
 * a positive on/off difference >= minDeltaLuma.
 */
export function evaluateLight(s: LightSchedule, samples: readonly LumaSample[], cfg: SessionPolicy['light']): LightResult {
  let best: LightResult = { passed: false, correlation: 0, lagMs: 0, coverage: 0, deltaLuma: 0 };
  for (let lag = 0; lag <= cfg.maxLagMs; lag += cfg.lagStepMs) {
    const r = atLag(s, samples, lag);
    if (r.coverage >= cfg.minCoverage && r.correlation > best.correlation) best = r;
  }
  best.passed = best.correlation >= cfg.minCorrelation && best.coverage >= cfg.minCoverage && best.deltaLuma >= cfg.minDeltaLuma;
  return best;
}

function atLag(s: LightSchedule, samples: readonly LumaSample[], lagMs: number): LightResult {
  const t: number[] = [];
  const y: number[] = [];
  const x: number[] = [];
  const seen = new Set<number>();
  for (const p of samples) {
    const i = chipIndexAt(s, p.tsMs - lagMs);
    if (i < 0) continue;
    seen.add(i);
    t.push(p.tsMs);
    y.push(p.luma);
    x.push(s.chips[i]);
  }
  const coverage = seen.size / s.chips.length;
  const resid = detrend(t, y);
  let on = 0;
  let nOn = 0;
  let off = 0;
  for (let k = 0; k < x.length; k++) {
    if (x[k] === 1) {
      on += resid[k];
      nOn++;
    } else off += resid[k];
  }
  const nOff = x.length - nOn;
  const deltaLuma = nOn > 0 && nOff > 0 ? on / nOn - off / nOff : 0;
  return { passed: false, correlation: pearson(x, resid), lagMs, coverage, deltaLuma };
}

/** Residuals of a least-squares line y ~ a + b t (removes exposure drift). */
function detrend(t: readonly number[], y: readonly number[]): number[] {
  const n = t.length;
  if (n < 2) return [...y];
  const mt = t.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let stt = 0;
  let sty = 0;
  for (let i = 0; i < n; i++) {
    stt += (t[i] - mt) ** 2;
    sty += (t[i] - mt) * (y[i] - my);
  }
  const b = stt > 0 ? sty / stt : 0;
  return y.map((v, i) => v - my - b * (t[i] - mt));
}

/** Pearson correlation; 0 when either side is constant (a photo under steady light). */
export function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  if (n < 3) return 0;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  // Relative floor: luminance quantised to a constant has tiny float residue after detrending.
  if (saa === 0 || sbb <= 1e-9 * n) return 0;
  return sab / Math.sqrt(saa * sbb);
}
