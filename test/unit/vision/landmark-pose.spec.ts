import { describe, expect, it } from 'vitest';
import { MODEL_POINTS, landmarkPose } from '../../../src/vision/landmark-pose.ts';

const RAD = Math.PI / 180;

/**
 * The generic model rotated by R = Rz(roll) Rx(pitch) Ry(yaw) (src/vision/pose.ts signs, written out here from
 * their physical meaning, not taken from the module), scaled, shifted and projected orthographically into image
 * pixels (y down). Points the model does not use stay at (0, 0).
 */
function project(yaw: number, pitch: number, roll: number, scale = 2.2, tx = 320, ty = 240): Float32Array {
  const out = new Float32Array(136);
  for (const [idx, x0, y0, z0] of MODEL_POINTS) {
    // yaw: +z (nose) toward +x
    const [cy, sy] = [Math.cos(yaw * RAD), Math.sin(yaw * RAD)];
    const x1 = cy * x0 + sy * z0;
    const z1 = -sy * x0 + cy * z0;
    // pitch: +z (nose) toward +y (up)
    const [cp, sp] = [Math.cos(pitch * RAD), Math.sin(pitch * RAD)];
    const y2 = cp * y0 + sp * z1;
    // roll: +y (head top) toward +x (image right)
    const [cr, sr] = [Math.cos(roll * RAD), Math.sin(roll * RAD)];
    const x3 = cr * x1 + sr * y2;
    const y3 = -sr * x1 + cr * y2;
    out[2 * idx] = tx + scale * x3;
    out[2 * idx + 1] = ty - scale * y3;
  }
  return out;
}

describe('landmarkPose (weak-perspective fit of the generic face)', () => {
  it('the synthetic projection follows the sign convention: nose right for yaw > 0, up for pitch > 0, top right for roll > 0', () => {
    // nose tip (30) relative to the outer eye corners' midpoint (36, 45), image pixels (y down)
    const noseX = (p: Float32Array): number => p[60] - (p[72] + p[90]) / 2;
    const noseY = (p: Float32Array): number => p[61] - (p[73] + p[91]) / 2;
    expect(noseX(project(20, 0, 0))).toBeGreaterThan(noseX(project(0, 0, 0)) + 10);
    expect(noseY(project(0, 20, 0))).toBeLessThan(noseY(project(0, 0, 0)) - 10);
    const top = (p: Float32Array): number => p[54] - p[66]; // nasion x - subnasale x
    expect(top(project(0, 0, 20))).toBeGreaterThan(10);
  });

  const cases: Array<[number, number, number]> = [
    [0, 0, 0],
    [25, 0, 0], [-25, 0, 0], [45, 0, 0], [-45, 0, 0],
    [0, 15, 0], [0, -15, 0], [0, 30, 0], [0, -30, 0],
    [0, 0, 12], [0, 0, -12], [0, 0, 35], [0, 0, -35],
    [20, -10, 8], [-30, 12, -15], [35, 20, 25], [-10, -25, 30],
  ];
  it.each(cases)('recovers yaw %d, pitch %d, roll %d within 1 deg', (yaw, pitch, roll) => {
    const p = landmarkPose(project(yaw, pitch, roll));
    expect(p).not.toBeNull();
    expect(Math.abs(p!.yaw - yaw)).toBeLessThan(1);
    expect(Math.abs(p!.pitch - pitch)).toBeLessThan(1);
    expect(Math.abs(p!.roll - roll)).toBeLessThan(1);
    expect(p!.scale).toBeCloseTo(2.2, 3);
    expect(p!.residualMm).toBeLessThan(0.01);
  });

  it('is independent of face size and position', () => {
    const a = landmarkPose(project(18, -7, 5, 0.6, 40, 500))!;
    const b = landmarkPose(project(18, -7, 5, 5, 900, 20))!;
    expect(Math.abs(a.yaw - b.yaw) + Math.abs(a.pitch - b.pitch) + Math.abs(a.roll - b.roll)).toBeLessThan(1e-3);
  });

  it('stays within 2 deg under 1 px landmark noise on a 150 px face', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    const clean = project(15, 8, -6, 1.1);
    for (let trial = 0; trial < 20; trial++) {
      const noisy = clean.map((v) => v + 2 * rand());
      const p = landmarkPose(noisy)!;
      expect(Math.abs(p.yaw - 15)).toBeLessThan(2);
      expect(Math.abs(p.pitch - 8)).toBeLessThan(2);
      expect(Math.abs(p.roll + 6)).toBeLessThan(2);
    }
  });

  it('returns null for degenerate input: too few values, non-finite values, collapsed points', () => {
    expect(landmarkPose(new Float32Array(100))).toBeNull();
    const nan = project(10, 0, 0);
    nan[60] = Number.NaN;
    expect(landmarkPose(nan)).toBeNull();
    const inf = project(10, 0, 0);
    inf[91] = Number.POSITIVE_INFINITY;
    expect(landmarkPose(inf)).toBeNull();
    expect(landmarkPose(new Float32Array(136).fill(123))).toBeNull();
  });

  it('returns a finite pose or null, never throws, for collinear points', () => {
    const line = new Float32Array(136);
    for (let i = 0; i < 68; i++) [line[2 * i], line[2 * i + 1]] = [100 + i, 100 + i];
    const p = landmarkPose(line);
    if (p !== null) expect([p.yaw, p.pitch, p.roll, p.scale].every(Number.isFinite)).toBe(true);
  });
});
