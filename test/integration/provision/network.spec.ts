import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { installedLayout, verify } from '../systemd/verify.ts';
import { brokerCa, carrierKey, makeRoot } from './fixture-root.ts';

/**
 * The outbound allow-list provisioning renders into the installed unit (src/device/provision/unit.ts): the broker's
 * addresses, resolved at provisioning when --broker names a host, plus --allow-ip; loopback only when nothing resolves.
 */
const REPO = new URL('../../../', import.meta.url).pathname;
const CLI = join(REPO, 'bin', 'regterm.js');
const TEMPLATE = readFileSync(join(REPO, 'systemd', 'regterm.service'), 'utf8');

let tmp = '';
let carrier = '';
let ca = '';

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'regterm-provision-net-'));
  carrier = carrierKey(join(tmp, 'carrier.pub.pem'));
  ca = brokerCa(join(tmp, 'ca.pem'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function provision(name: string, extra: string[]) {
  const root = makeRoot(join(tmp, name));
  const run = spawnSync(process.execPath, [CLI, 'provision', '--root', root, '--device-id', 'net-1', '--carrier-key', carrier,
    '--ca', ca, '--no-release', ...extra], { encoding: 'utf8' });
  const allow = (unit: string) => unit.split('\n').filter((l) => l.startsWith('IPAddress'));
  const unit = () => readFileSync(join(root, PATHS.unit), 'utf8');
  return { run, unit, allow: () => allow(unit()) };
}

describe('regterm provision: the unit reaches the broker and nothing else', () => {
  it('allows the broker address and --allow-ip, and the installed unit passes systemd-analyze verify', () => {
    const p = provision('literal', ['--broker', 'mqtts://192.0.2.10:8883', '--allow-ip', '198.51.100.53', '--json']);
    expect(p.run.status, p.run.stderr).toBe(0);
    expect((JSON.parse(p.run.stdout) as { allowedAddresses: string[] }).allowedAddresses).toEqual(['192.0.2.10', '198.51.100.53']);
    expect(p.allow()).toEqual(['IPAddressDeny=any', 'IPAddressAllow=localhost', 'IPAddressAllow=192.0.2.10 198.51.100.53']);
    const checked = join(tmp, 'literal-verify.service');
    writeFileSync(checked, installedLayout(join(tmp, 'literal-layout'), p.unit()));
    expect(verify(checked)).toEqual({ output: '', status: 0 });
  });

  it('resolves a broker host name once, at provisioning', () => {
    const p = provision('name', ['--broker', 'mqtts://localhost:8883', '--json']);
    expect(p.run.status, p.run.stderr).toBe(0);
    expect(p.allow()[2]).toMatch(/^IPAddressAllow=.*\b127\.0\.0\.1\b/);
  });

  it('a broker that does not resolve leaves loopback only, and the output says so', () => {
    const p = provision('unresolved', ['--broker', 'mqtts://broker.invalid:8883']);
    expect(p.run.status, p.run.stderr).toBe(0);
    expect(p.run.stdout).toContain('network: the agent may reach loopback only');
    expect(p.run.stdout).toMatch(/warning: broker host broker\.invalid \(.*\) did not resolve: re-run with --allow-ip/);
    expect(p.unit()).toBe(TEMPLATE);
  });

  it('refuses an --allow-ip that is not an address, before writing anything', () => {
    const p = provision('bad', ['--broker', 'mqtts://192.0.2.10:8883', '--allow-ip', 'example.com']);
    expect(p.run.status).toBe(2);
    expect(p.run.stderr).toMatch(/--allow-ip must be an IP address or prefix \(got 'example\.com'\)/);
    expect(() => p.unit()).toThrow();
  });
});
