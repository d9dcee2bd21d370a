import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_IOU, boxesCsvFor, labelledFace, readPoseLabels } from '../../../src/cli/eval-pose.ts';
import { UsageError } from '../../../src/lib/errors.ts';
import { recordAttack } from '../../attacks/table.ts';
import { type PoseSample, linearFit, poseAccuracy } from '../../../src/vision/pose-accuracy.ts';

/** A sample whose estimate is `f(true yaw)`; pitch and roll off by fixed amounts. */
const s = (trueYaw: number, yaw: number, pitchErr = 0, rollErr = 0): PoseSample =>
  ({ trueYaw, truePitch: 5, trueRoll: -3, yaw, pitch: 5 + pitchErr, roll: -3 + rollErr });

describe('pose accuracy: the least-squares line', () => {
  it('recovers slope and intercept of exact data', () => {
    const x = [-40, -10, 0, 7, 33];
    const fit = linearFit(x, x.map((v) => 0.74 * v + 2));
    expect(fit.slope).toBeCloseTo(0.74, 12);
    expect(fit.intercept).toBeCloseTo(2, 12);
  });

  it('is the least-squares slope, not a ratio of means, for noisy data', () => {
    // y = x + (+1, -1, -1, +1): the residual pattern is symmetric, so the slope stays 1 and the intercept 0
    const fit = linearFit([0, 1, 2, 3], [1, 0, 1, 4]);
    expect(fit.slope).toBeCloseTo(1, 12);
    expect(fit.intercept).toBeCloseTo(0, 12);
  });

  it('is NaN with fewer than two distinct x, and refuses mismatched lengths', () => {
    expect(linearFit([3], [4]).slope).toBeNaN();
    expect(linearFit([3, 3], [4, 5]).slope).toBeNaN();
    expect(() => linearFit([1, 2], [1])).toThrow(RangeError);
  });
});

describe('pose accuracy: summary over |yaw| <= 60', () => {
  // left side compressed to 0.5x, right side exact, one sample beyond the range that must not count
  const samples = [-50, -30, -12, -4, 0, 4, 12, 30, 50].map((t) => s(t, t < 0 ? 0.5 * t : t, 2, -1));
  const outside = s(75, 0);
  const r = poseAccuracy([...samples, outside]);

  it('leaves out samples beyond the last bin edge', () => {
    expect(r.n).toBe(9);
  });

  it('splits the slope by the sign of the truth (0 in neither)', () => {
    expect(r.yaw.slopeLeft).toBeCloseTo(0.5, 12);
    expect(r.yaw.slopeRight).toBeCloseTo(1, 12);
    const all = linearFit(samples.map((p) => p.trueYaw), samples.map((p) => p.yaw)).slope;
    expect(r.yaw.slope).toBeCloseTo(all, 12);
    expect(r.yaw.slope).toBeGreaterThan(0.5);
    expect(r.yaw.slope).toBeLessThan(1);
  });

  it('averages absolute errors: yaw over all in range, pitch and roll too', () => {
    // left errors: 25, 15, 6, 2 (sum 48) over 9 samples
    expect(r.yaw.mae).toBeCloseTo(48 / 9, 12);
    expect(r.pitch.mae).toBeCloseTo(2, 12);
    expect(r.roll.mae).toBeCloseTo(1, 12);
  });

  it('bins by |true yaw| with the lower edge inclusive and the range edge in the last bin', () => {
    expect(r.yaw.byBin.map((b) => [b.from, b.to, b.n])).toEqual([[0, 10, 3], [10, 20, 2], [20, 30, 0], [30, 45, 2], [45, 60, 2]]);
    const b30 = r.yaw.byBin[3];
    expect(b30.mae).toBeCloseTo(7.5, 12); // |-15 - -30| and 0
    expect(b30.meanAbsEst).toBeCloseTo(22.5, 12);
    expect(b30.meanAbsTrue).toBeCloseTo(30, 12);
    expect(r.yaw.byBin[2].mae).toBeNaN();
    const edges = poseAccuracy([s(10, 10), s(60, 60), s(-60, -60)]).yaw.byBin;
    expect(edges[1].n).toBe(1); // 10 is in 10-20, not 0-10
    expect(edges[4].n).toBe(2); // |60| is in range and in the last bin
  });
});

describe('eval pose: labels, boxes and the labelled face', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'regterm-pose-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads labels with their boxes; a row without a box has none', async () => {
    await writeFile(join(dir, 'labels.csv'), 'file,yaw_deg,pitch_deg,roll_deg\r\na.jpg,-17.14,-10.05,-21.39\nb.jpg,1.4,0,3\n');
    await writeFile(join(dir, 'face_boxes.csv'), 'file,x1,y1,x2,y2\na.jpg,148.3,179,336.6,362.7\n');
    const boxes = boxesCsvFor(join(dir, 'labels.csv'));
    expect(boxes).toBe(join(dir, 'face_boxes.csv'));
    expect(await readPoseLabels(join(dir, 'labels.csv'), boxes)).toEqual([
      { file: 'a.jpg', yaw: -17.14, pitch: -10.05, roll: -21.39, box: { x1: 148.3, y1: 179, x2: 336.6, y2: 362.7 } },
      { file: 'b.jpg', yaw: 1.4, pitch: 0, roll: 3 },
    ]);
    expect(boxesCsvFor(join(dir, 'labels.csv'), 'other.csv')).toBe('other.csv');
    expect(boxesCsvFor(join(dir, 'nested', 'labels.csv'))).toBeUndefined();
  });

  it('names the row of a bad number, an empty box or a missing column', async () => {
    await writeFile(join(dir, 'bad.csv'), 'file,yaw_deg,pitch_deg,roll_deg\na.jpg,1,2,3\nb.jpg,x,2,3\n');
    const bad = await readPoseLabels(join(dir, 'bad.csv')).then(() => undefined, (e: unknown) => e);
    recordAttack({
      area: 'eval input', attack: 'pose labels CSV with a non-number angle', expected: 'usage error: row 3',
      observed: bad instanceof UsageError ? `usage error: ${bad.message.replace(/^.*: (row \d+).*$/, '$1')}` : `no usage error (${String(bad)})`,
    });
    expect(bad).toBeInstanceOf(UsageError);
    expect((bad as Error).message).toMatch(/row 3: 'x' is not a number/);
    await writeFile(join(dir, 'empty-box.csv'), 'file,x1,y1,x2,y2\na.jpg,10,10,5,20\n');
    await expect(readPoseLabels(join(dir, 'labels.csv'), join(dir, 'empty-box.csv'))).rejects.toThrow(/row 2: the box is empty/);
    await writeFile(join(dir, 'cols.csv'), 'file,yaw_deg\na.jpg,1\n');
    await expect(readPoseLabels(join(dir, 'cols.csv'))).rejects.toBeInstanceOf(UsageError);
  });

  it('picks the face overlapping the labelled box best, none below MIN_IOU, the largest without a box', () => {
    const big = { box: { x1: 0, y1: 0, x2: 200, y2: 200 } };
    const small = { box: { x1: 300, y1: 300, x2: 380, y2: 380 } };
    expect(labelledFace([big, small], { x1: 290, y1: 295, x2: 385, y2: 390 })).toBe(small);
    expect(labelledFace([big, small], undefined)).toBe(big);
    // two 100x100 boxes overlapping by a strip w wide: IoU = 100w / (20000 - 100w)
    const label = { x1: 0, y1: 0, x2: 100, y2: 100 };
    const strip = (w: number): { box: typeof label } => ({ box: { x1: 100 - w, y1: 0, x2: 200 - w, y2: 100 } });
    expect(1000 / 19000).toBeLessThan(MIN_IOU);
    expect(labelledFace([strip(10)], label)).toBeUndefined();
    expect(3000 / 17000).toBeGreaterThan(MIN_IOU);
    expect(labelledFace([strip(10), strip(30)], label)).toEqual(strip(30));
  });
});
