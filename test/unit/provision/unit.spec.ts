import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_ALLOW, allowList, renderUnit } from '../../../src/device/provision/unit.ts';

const TEMPLATE = readFileSync(join(import.meta.dirname, '..', '..', '..', 'systemd', 'regterm.service'), 'utf8');
const noLookup = async (host: string): Promise<string[]> => { throw new Error(`unexpected lookup of ${host}`); };

describe('the outbound allow-list rendered into the unit', () => {
  it('takes an address literal as is and resolves a host name once, at provisioning', async () => {
    expect(await allowList('mqtts://10.20.30.40:8883', [], noLookup)).toEqual({ addresses: ['10.20.30.40'] });
    expect(await allowList('mqtts://[2001:db8::7]:8883', [], noLookup)).toEqual({ addresses: ['2001:db8::7'] });
    const asked: string[] = [];
    const lookup = async (host: string) => { asked.push(host); return ['192.0.2.11', '2001:db8::11', '192.0.2.10']; };
    expect(await allowList('mqtts://mqtt.carrier.example:8883', ['198.51.100.53'], lookup))
      .toEqual({ addresses: ['192.0.2.10', '192.0.2.11', '198.51.100.53', '2001:db8::11'] });
    expect(asked).toEqual(['mqtt.carrier.example']);
  });

  it('a host that does not resolve leaves the extra addresses only, and says so', async () => {
    const r = await allowList('mqtts://broker.test:8883', [], async () => { throw new Error('getaddrinfo ENOTFOUND broker.test'); });
    expect(r).toEqual({ addresses: [], unresolved: 'broker.test (getaddrinfo ENOTFOUND broker.test)' });
  });

  it('refuses an --allow-ip that is not an address or prefix', async () => {
    for (const bad of ['example.com', '10.0.0.0/33', '10.0.0.1/8/1', '', '2001:db8::/129']) {
      await expect(allowList('mqtts://10.0.0.1:8883', [bad], noLookup), bad).rejects.toThrow(/--allow-ip must be/);
    }
    expect((await allowList('mqtts://10.0.0.1:8883', ['10.8.0.0/16', '2001:db8::/32'], noLookup)).addresses)
      .toEqual(['10.0.0.1', '10.8.0.0/16', '2001:db8::/32']);
  });

  it('adds one IPAddressAllow= line after the loopback line of the shipped unit, and nothing when there is nothing', () => {
    const unit = renderUnit(TEMPLATE, ['192.0.2.10', '2001:db8::11']);
    const lines = unit.split('\n');
    expect(lines.filter((l) => l.startsWith('IPAddress'))).toEqual(['IPAddressDeny=any', LOOPBACK_ALLOW, 'IPAddressAllow=192.0.2.10 2001:db8::11']);
    expect(lines.filter((l) => !l.startsWith('IPAddressAllow=192'))).toEqual(TEMPLATE.split('\n'));
    expect(renderUnit(TEMPLATE, [])).toBe(TEMPLATE);
    expect(() => renderUnit(TEMPLATE.replace('IPAddressDeny=any\n', ''), ['192.0.2.10'])).toThrow(/IPAddressDeny=any/);
  });

  it('the shipped unit gives the agent no writable home and denies every address but loopback before provisioning', () => {
    const lines = TEMPLATE.split('\n');
    const env = Object.fromEntries(lines.filter((l) => l.startsWith('Environment=')).map((l) => l.slice(12).split('=') as [string, string]));
    const writable = [...lines.filter((l) => l.startsWith('ReadWritePaths=')).map((l) => l.slice(15)), '/var/lib/regterm', '/tmp'];
    expect(lines).toContain('ProtectSystem=strict');
    for (const name of ['HOME', 'XDG_CACHE_HOME']) {
      expect(env[name], name).toBeDefined();
      expect(writable.some((w) => env[name]!.startsWith(w)), `${name}=${env[name]}`).toBe(false);
    }
    expect(lines.filter((l) => l.startsWith('IPAddress'))).toEqual(['IPAddressDeny=any', LOOPBACK_ALLOW]);
  });
});
