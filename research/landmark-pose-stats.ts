/**
 * Statistics of the landmark-pose study (research/landmark-pose.md): agreement of paired angle readings
 * (fr_pose vs the landmark fit) raw and after a per-axis linear calibration fitted on a disjoint half.
 */
import { pearson } from '../src/session/light.ts';
import { quantile } from '../scripts/models/measure.ts';

export const AXES = ['yaw', 'pitch', 'roll'] as const;
export type Axis = (typeof AXES)[number];
export type Angles = Record<Axis, number>;

export interface Line {
  slope: number;
  intercept: number;
}

export interface AbsDiff {
  n: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** median / p90 / p99 / max of |a - b| over the pairs, degrees to 0.01. */
export function absDiff(a: readonly number[], b: readonly number[]): AbsDiff {
  const d = a.map((x, i) => Math.abs(x - b[i]));
  return { n: d.length, median: r2(quantile(d, 0.5)), p90: r2(quantile(d, 0.9)), p99: r2(quantile(d, 0.99)), max: r2(Math.max(...d)) };
}

/** Least squares y = slope * x + intercept. */
export function fitLine(x: readonly number[], y: readonly number[]): Line {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 1;
  return { slope, intercept: my - slope * mx };
}

export const applyLine = (l: Line, x: number): number => l.slope * x + l.intercept;

/** Sample standard deviation of successive differences / sqrt(2): the frame-to-frame jitter of a slowly moving signal. */
export function jitterSd(xs: readonly number[]): number {
  if (xs.length < 3) return Number.NaN;
  const d = xs.slice(1).map((x, i) => x - xs[i]);
  const m = d.reduce((s, v) => s + v, 0) / d.length;
  const v = d.reduce((s, x) => s + (x - m) ** 2, 0) / (d.length - 1);
  return Math.sqrt(v / 2);
}

/**
 * Per axis: raw agreement on all pairs, the correlation, and the calibration `model = slope * landmark + intercept`
 * fitted on the pairs where `inFit` is true and reported on the others (the held-out half).
 */
export function axisReport(model: readonly Angles[], landmark: readonly Angles[], inFit: (i: number) => boolean): Record<Axis, {
  raw: AbsDiff; pearson: number; calibration: Line; heldOutRaw: AbsDiff; heldOutCalibrated: AbsDiff;
}> {
  const out = {} as ReturnType<typeof axisReport>;
  for (const axis of AXES) {
    const m = model.map((a) => a[axis]);
    const l = landmark.map((a) => a[axis]);
    const fitIdx = m.map((_, i) => i).filter(inFit);
    const testIdx = m.map((_, i) => i).filter((i) => !inFit(i));
    const line = fitLine(fitIdx.map((i) => l[i]), fitIdx.map((i) => m[i]));
    out[axis] = {
      raw: absDiff(m, l),
      pearson: Math.round(pearson(m, l) * 1000) / 1000,
      calibration: { slope: Math.round(line.slope * 1000) / 1000, intercept: r2(line.intercept) },
      heldOutRaw: absDiff(testIdx.map((i) => m[i]), testIdx.map((i) => l[i])),
      heldOutCalibrated: absDiff(testIdx.map((i) => m[i]), testIdx.map((i) => applyLine(line, l[i]))),
    };
  }
  return out;
}

const cell = (d: AbsDiff): string => `${d.median} / ${d.p90} / ${d.p99}`;

/** `axisReport` as markdown rows: | label | axis | n | raw | r | calibration | held-out raw | held-out calibrated | */
export function reportRows(label: string, r: ReturnType<typeof axisReport>): string {
  return AXES.map((a) => {
    const x = r[a];
    const c = `${x.calibration.slope} x ${x.calibration.intercept >= 0 ? '+' : '-'} ${Math.abs(x.calibration.intercept)}`;
    return `| ${label} | ${a} | ${x.raw.n} | ${cell(x.raw)} | ${x.pearson} | ${c} | ${cell(x.heldOutRaw)} | ${cell(x.heldOutCalibrated)} |`;
  }).join('\n');
}

/** The table header for `reportRows`: `fit` names the part the calibration is fitted on, `test` the held-out part. */
export function reportHeader(set: string, fit: string, test: string): string {
  return `| ${set} | axis | n | raw abs diff median / p90 / p99 (deg) | r | calibration (fr_pose = a x + b, ${fit}) | ${test} raw | ${test} calibrated |\n| --- | --- | --- | --- | --- | --- | --- | --- |`;
}
