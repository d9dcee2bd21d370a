import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UsageError } from '../../lib/errors.ts';

/**
 * The service unit as installed: systemd/regterm.service with its outbound allow-list filled in. The shipped unit
 * denies every IP address but loopback (`IPAddressDeny=any`, `IPAddressAllow=localhost`); provisioning adds the
 * broker's addresses on the line after the loopback one, so the agent reaches its broker and nothing else, whatever
 * code runs inside it. A broker host that does not resolve at provisioning leaves loopback only: the agent then
 * reaches nothing, which is safe, and the provisioning output says so.
 */
export const LOOPBACK_ALLOW = 'IPAddressAllow=localhost';
const LOOKUP_TIMEOUT_MS = 5000;

export type LookupAll = (host: string) => Promise<string[]>;

export interface AllowList {
  /** sorted, unique: the broker's addresses and the extra ones given */
  addresses: string[];
  /** the broker host, when it could not be resolved (the reason appended) */
  unresolved?: string;
}

const dnsLookupAll: LookupAll = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/** An IP address or CIDR prefix (`10.1.2.0/24`, `2001:db8::/32`), as systemd's IPAddressAllow= takes them. */
export function assertAddress(value: string): string {
  const [ip = '', prefix, ...rest] = value.split('/');
  const version = isIP(ip);
  const bits = version === 4 ? 32 : 128;
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
  if (version === 0 || !prefixOk || rest.length > 0) throw new UsageError(`--allow-ip must be an IP address or prefix (got '${value}')`);
  return value;
}

/** The addresses the agent may reach: the broker URL's host (resolved now unless it is an address) plus `extra`. */
export async function allowList(brokerUrl: string, extra: readonly string[], lookupAll: LookupAll = dnsLookupAll): Promise<AllowList> {
  const host = new URL(brokerUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = new Set(extra.map(assertAddress));
  let unresolved: string | undefined;
  if (isIP(host) !== 0) {
    addresses.add(host);
  } else {
    try {
      const timeout = new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error(`no answer within ${LOOKUP_TIMEOUT_MS} ms`)), LOOKUP_TIMEOUT_MS).unref();
      });
      for (const a of await Promise.race([lookupAll(host), timeout])) addresses.add(a);
    } catch (e: unknown) {
      unresolved = `${host} (${e instanceof Error ? e.message : String(e)})`;
    }
  }
  return { addresses: [...addresses].sort(), ...(unresolved === undefined ? {} : { unresolved }) };
}

/** The unit with one `IPAddressAllow=` line for `addresses` after the loopback line. */
export function renderUnit(template: string, addresses: readonly string[]): string {
  const lines = template.split('\n');
  const at = lines.indexOf(LOOPBACK_ALLOW);
  if (at < 0 || !lines.includes('IPAddressDeny=any')) throw new Error(`the unit template has no '${LOOPBACK_ALLOW}' after IPAddressDeny=any`);
  if (addresses.length > 0) lines.splice(at + 1, 0, `IPAddressAllow=${addresses.join(' ')}`);
  return lines.join('\n');
}
