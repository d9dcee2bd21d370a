/**
 * `regterm eval verify` as a real process on the committed demo photo: a pairs CSV whose file names are quoted (one
 * holds a comma) is read as the CSV says, and progress with a total and an ETA goes to stderr only on a terminal
 * (util-linux `script` gives the child a pseudo-terminal).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REFERENCE } from '../../../src/compose/demo/asset.ts';
import { recordAttack } from '../../attacks/table.ts';

const BIN = new URL('../../../bin/regterm.js', import.meta.url).pathname;
let dir = '';
let pairs = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-eval-cli-'));
  copyFileSync(DEMO_REFERENCE, join(dir, 'ann, one.jpg'));
  copyFileSync(DEMO_REFERENCE, join(dir, 'ann "two".jpg'));
  pairs = join(dir, 'pairs.csv');
  writeFileSync(pairs, 'file_a,file_b,same\n"ann, one.jpg","ann ""two"".jpg",1\r\n"ann ""two"".jpg","ann, one.jpg",1\n');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('regterm eval verify (real process)', () => {
  it('reads quoted CSV fields and stays quiet on stderr when it is not a terminal', () => {
    const run = spawnSync(process.execPath, [BIN, 'eval', 'verify', '--pairs', pairs, '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout || '{}') as { pairs: number; failedToDetect: number; timing: { images: number } };
    recordAttack({ area: 'eval CSV', attack: 'pairs CSV with quoted file names holding a comma and a quote',
      expected: 'exit 0, 2 images read', observed: `exit ${run.status}, ${report.timing?.images ?? 0} images read` });
    expect(report.pairs).toBe(2);
    expect(report.timing.images).toBe(2);
    expect(report.failedToDetect).toBe(0);
  });

  it('shows progress with the total and an ETA on a terminal', () => {
    const cmd = [process.execPath, BIN, 'eval', 'verify', '--pairs', pairs].map((a) => `'${a}'`).join(' ');
    const run = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('eval verify  0/2 (0 %)  ETA -:--');
    expect(run.stdout).toMatch(/eval verify {2}2\/2 \(100 %\) {2}ETA \d+:\d\d/);
    expect(run.stdout).toMatch(/eval verify {2}2\/2 in \d+:\d\d\r?\n/);
  });
});

describe('regterm eval replay-attack arguments (real process)', () => {
  it.each([
    ['--seeds', '0', '--seeds must be a positive integer'],
    ['--first-seed', '1.5', '--first-seed must be a non-negative integer'],
  ])('%s %s exits 2 with the reason, before any model loads', (flag, value, reason) => {
    const run = spawnSync(process.execPath, [BIN, 'eval', 'replay-attack', dir, `${flag}=${value}`], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(reason);
  });
});
