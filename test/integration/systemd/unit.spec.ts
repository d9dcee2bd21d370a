import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderUnit } from '../../../src/device/provision/unit.ts';
import { installedLayout, verify } from './verify.ts';

const UNIT = new URL('../../../systemd/regterm.service', import.meta.url).pathname;

describe('systemd/regterm.service', () => {
  it('passes systemd-analyze verify with no output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regterm-unit-'));
    writeFileSync(join(dir, 'regterm.service'), installedLayout(dir, readFileSync(UNIT, 'utf8')));
    expect(verify(join(dir, 'regterm.service'))).toEqual({ output: '', status: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('as provisioning renders it, with the broker\'s addresses allowed, still passes systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regterm-unit-'));
    const unit = renderUnit(readFileSync(UNIT, 'utf8'), ['192.0.2.10', '2001:db8::11', '198.51.100.0/24']);
    expect(unit).toContain('IPAddressAllow=192.0.2.10 2001:db8::11 198.51.100.0/24\n');
    writeFileSync(join(dir, 'regterm.service'), installedLayout(dir, unit));
    expect(verify(join(dir, 'regterm.service'))).toEqual({ output: '', status: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores as well hardened in systemd-analyze security (exposure below 2.5)', () => {
    const run = spawnSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8' });
    const score = /Overall exposure level for regterm\.service: ([\d.]+)/.exec(run.stdout);
    expect(score, run.stdout + run.stderr).not.toBeNull();
    expect(Number(score?.[1])).toBeLessThan(2.5);
  });
});
