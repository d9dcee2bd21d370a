import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAUNCHER } from '../../../scripts/release-target.ts';
import { renderUnit } from '../../../src/device/provision/unit.ts';

const UNIT = new URL('../../../systemd/regterm.service', import.meta.url).pathname;

// systemd-analyze exits 0 on many problems, so any output at all is a failure (issue #7).
describe('systemd/regterm.service', () => {
  it('passes systemd-analyze verify with no output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regterm-unit-'));
    // verify checks that every Exec* command exists: the installed layout (docs/release.md), rooted in the tmp dir
    const opt = join(dir, 'opt', 'regterm');
    mkdirSync(join(opt, 'releases', '0.1.0'), { recursive: true });
    writeFileSync(join(opt, 'releases', '0.1.0', 'regterm'), LAUNCHER, { mode: 0o755 });
    symlinkSync('releases/0.1.0', join(opt, 'current'));
    copyFileSync(new URL('../../../scripts/update-guard', import.meta.url).pathname, join(opt, 'update-guard'));
    writeFileSync(join(dir, 'regterm.service'), readFileSync(UNIT, 'utf8').replaceAll('=/opt/regterm/', `=${opt}/`).replaceAll('=+/opt/regterm/', `=+${opt}/`));
    const run = spawnSync('systemd-analyze', ['verify', join(dir, 'regterm.service')], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('as provisioning renders it, with the broker\'s addresses allowed, still passes systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regterm-unit-'));
    const unit = renderUnit(readFileSync(UNIT, 'utf8'), ['192.0.2.10', '2001:db8::11', '198.51.100.0/24']);
    expect(unit).toContain('IPAddressAllow=192.0.2.10 2001:db8::11 198.51.100.0/24\n');
    writeFileSync(join(dir, 'regterm.service'), unit);
    const run = spawnSync('systemd-analyze', ['verify', join(dir, 'regterm.service')], { encoding: 'utf8' });
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
