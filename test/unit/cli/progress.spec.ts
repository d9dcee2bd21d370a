import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clockTime, progress, progressLine } from '../../../src/cli/progress.ts';

function stream(tty: boolean): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  Object.assign(out, { isTTY: tty });
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { out, text: () => chunks.join('') };
}

describe('CLI progress', () => {
  it('estimates the time left from the mean time per item', () => {
    expect(progressLine('eval verify', 0, 10, 0)).toBe('eval verify  0/10 (0 %)  ETA -:--');
    expect(progressLine('eval verify', 4, 10, 8000)).toBe('eval verify  4/10 (40 %)  ETA 0:12');
    expect(clockTime(3_725_000)).toBe('1:02:05');
  });

  it('redraws one line on a terminal, at most every 250 ms, and ends with the total time', () => {
    let t = 0;
    const s = stream(true);
    const bar = progress(s.out, 'eval pose', 3, () => t);
    t = 100;
    bar.tick(); // too soon after the first draw
    t = 400;
    bar.tick();
    bar.note('eval: x.jpg cannot be read');
    t = 2000;
    bar.tick();
    bar.done();
    const lines = s.text().split('\r\x1b[K').filter(Boolean);
    expect(lines).toEqual([
      'eval pose  0/3 (0 %)  ETA -:--',
      'eval pose  2/3 (66 %)  ETA 0:00',
      'eval: x.jpg cannot be read\n',
      'eval pose  2/3 (66 %)  ETA 0:00',
      'eval pose  3/3 (100 %)  ETA 0:00',
      'eval pose  3/3 in 0:02\n',
    ]);
  });

  it('prints only the notes when stderr is not a terminal', () => {
    const s = stream(false);
    const bar = progress(s.out, 'eval verify', 2);
    bar.tick();
    bar.note('eval: skipped');
    bar.tick();
    bar.done();
    expect(s.text()).toBe('eval: skipped\n');
  });
});
