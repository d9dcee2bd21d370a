/**
 * Head-pose accuracy against labelled photos (`regterm eval pose`): pure functions over (true, estimated) angle pairs,
 * in degrees, in the pose.ts sign convention. Yaw is what the turn detector reads, so it gets the detail: the mean
 * absolute error, the slope of a least-squares line est = a·true + b (1 = no compression), that slope separately on
 * each side of frontal (by the sign of the truth; a model can compress one side only), and the errors per |yaw| bin.
 */

export interface PoseSample {
  trueYaw: number;
  truePitch: number;
  trueRoll: number;
  yaw: number;
  pitch: number;
  roll: number;
}

export interface YawBin {
  /** |true yaw| from (inclusive) */
  from: number;
  /** |true yaw| to (exclusive, except the last bin, which includes it) */
  to: number;
  n: number;
  mae: number;
  meanAbsEst: number;
  meanAbsTrue: number;
}

export interface PoseAccuracy {
  /** samples inside the yaw range */
  n: number;
  yaw: { mae: number; slope: number; slopeLeft: number; slopeRight: number; byBin: YawBin[] };
  pitch: { mae: number };
  roll: { mae: number };
}

/** |true yaw| bin edges (the AFLW2000 convention of SOURCE.md; the last edge is the range). */
export const YAW_BIN_EDGES = [0, 10, 20, 30, 45, 60] as const;

/** Least-squares line y = slope·x + intercept; NaN for fewer than two distinct x. */
export function linearFit(x: readonly number[], y: readonly number[]): { slope: number; intercept: number } {
  if (x.length !== y.length) throw new RangeError('linearFit: x and y differ in length');
  const n = x.length;
  const mx = mean(x);
  const my = mean(y);
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (n < 2 || !(sxx > 0)) return { slope: Number.NaN, intercept: Number.NaN };
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/**
 * Accuracy over the samples whose |true yaw| is at most the last bin edge. Left = true yaw < 0 (toward the image
 * left), right = true yaw > 0; a sample at exactly 0 counts in neither side's slope. Empty groups give NaN.
 */
export function poseAccuracy(samples: readonly PoseSample[], edges: readonly number[] = YAW_BIN_EDGES): PoseAccuracy {
  const range = edges[edges.length - 1];
  const s = samples.filter((p) => Math.abs(p.trueYaw) <= range);
  const slopeOf = (group: readonly PoseSample[]): number => linearFit(group.map((p) => p.trueYaw), group.map((p) => p.yaw)).slope;
  const byBin: YawBin[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const [from, to] = [edges[i], edges[i + 1]];
    const last = i + 2 === edges.length;
    const inBin = s.filter((p) => Math.abs(p.trueYaw) >= from && (Math.abs(p.trueYaw) < to || (last && Math.abs(p.trueYaw) === to)));
    byBin.push({
      from,
      to,
      n: inBin.length,
      mae: mean(inBin.map((p) => Math.abs(p.yaw - p.trueYaw))),
      meanAbsEst: mean(inBin.map((p) => Math.abs(p.yaw))),
      meanAbsTrue: mean(inBin.map((p) => Math.abs(p.trueYaw))),
    });
  }
  return {
    n: s.length,
    yaw: {
      mae: mean(s.map((p) => Math.abs(p.yaw - p.trueYaw))),
      slope: slopeOf(s),
      slopeLeft: slopeOf(s.filter((p) => p.trueYaw < 0)),
      slopeRight: slopeOf(s.filter((p) => p.trueYaw > 0)),
      byBin,
    },
    pitch: { mae: mean(s.map((p) => Math.abs(p.pitch - p.truePitch))) },
    roll: { mae: mean(s.map((p) => Math.abs(p.roll - p.trueRoll))) },
  };
}

function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}
