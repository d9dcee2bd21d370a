import { describe, expect, it } from 'vitest';
import { LidLevels } from '../../../src/vision/lid-levels.ts';

describe('LidLevels', () => {
  it('reads an opening relative to the eye\'s open level: the 0.7 quantile of its last 3 s, once 5 samples are in', () => {
    const l = new LidLevels();
    const readings = [0.2, 0.22, 0.21, 0.2].map((v, i) => l.read('left', i * 100, v, true));
    expect(readings).toEqual([undefined, undefined, undefined, undefined]);
    // window now 0.2 0.22 0.21 0.2 0.05: sorted 0.05 0.2 0.2 0.21 0.22, quantile 0.7 -> index 3 = 0.21
    expect(l.read('left', 400, 0.05, true)).toBeCloseTo(0.05 / 0.21, 6);
    // the other eye has its own level
    expect(l.read('right', 450, 0.3, true)).toBeUndefined();
    // 3.5 s later the old samples have left the window: the level follows the new open eye
    for (let i = 0; i < 5; i++) l.read('left', 3500 + i * 100, 0.3, true);
    expect(l.read('left', 4000, 0.15, true)).toBeCloseTo(0.5, 6);
  });

  it('readings that do not feed the level are read against it: a long closure does not drag it down', () => {
    const l = new LidLevels();
    for (let i = 0; i < 10; i++) l.read('left', i * 165, 0.2, true); // every 5th frame at 30 fps, open
    // 900 ms of closed eyes measured on every frame (27 readings against 10 open samples: fed in, they would make
    // the 0.7 quantile a closed reading)
    const closed = Array.from({ length: 27 }, (_, i) => l.read('left', 1650 + i * 33, 0.02, false));
    expect(closed.every((r) => r !== undefined && Math.abs(r - 0.1) < 1e-6)).toBe(true);
    const fed = new LidLevels();
    for (let i = 0; i < 10; i++) fed.read('left', i * 165, 0.2, true);
    const dragged = Array.from({ length: 27 }, (_, i) => fed.read('left', 1650 + i * 33, 0.02, true));
    expect(dragged.at(-1)).toBeCloseTo(1, 6); // what feeding closed readings would do
  });

  it('forgets everything on reset, and rejects nonsense', () => {
    const l = new LidLevels();
    for (let i = 0; i < 6; i++) l.read('left', i * 100, 0.2, true);
    expect(l.read('left', 600, 0.2, true)).toBeCloseTo(1, 6);
    l.reset();
    expect(l.read('left', 700, 0.2, true)).toBeUndefined();
    expect(() => new LidLevels({ quantile: 1.5 })).toThrow(RangeError);
    expect(() => new LidLevels({ windowMs: 0 })).toThrow(RangeError);
  });
});
