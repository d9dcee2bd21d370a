import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT = new URL('../../../systemd/regterm.service', import.meta.url).pathname;

// systemd-analyze exits 0 on many problems, so any output at all is a failure (issue #7).
describe('systemd/regterm.service', () => {
  it('passes systemd-analyze verify with no output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regterm-unit-'));
    copyFileSync(UNIT, join(dir, 'regterm.service'));
    const run = spawnSync('systemd-analyze', ['verify', join(dir, 'regterm.service')], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores as well hardened in systemd-analyze security (exposure below 2.5)', () => {
    const run = spawnSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8' });
    const score = /Overall exposure level for regterm\.service: ([\d.]+)/.exec(run.stdout);
    expect(score, run.stdout + run.stderr).not.toBeNull();
    expect(Number(score?.[1])).toBeLessThan(2.5);
  });
});
