import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/lib/logger.ts';
import { TlsCredentials } from '../../../src/device/tls/credentials.ts';
import { recordAttack } from '../../attacks/table.ts';
import { createPki, type ClientCert, type TestPki } from '../../integration/carrier/helpers/pki.ts';

/**
 * Which client pair the link presents (src/device/tls/credentials.ts): the provisioned one until a renewed one is
 * pending, the pending one until it connected (then it is current), the previous one when the pending one fails, and
 * the pending one discarded when the broker accepts the previous one but not it.
 */
const DEVICE = 'term-cred';
let dir = '';
let pki: TestPki;
let provisioned: ClientCert;
let renewed: ClientCert;
let events: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-cred-'));
  mkdirSync(join(dir, 'pki'));
  pki = createPki(join(dir, 'pki'));
  provisioned = pki.clientFor('provisioned', DEVICE, 2);
  renewed = pki.clientFor('renewed', DEVICE, 90);
  events = [];
});

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function credentials(): TlsCredentials {
  return new TlsCredentials({
    certFile: provisioned.cert, keyFile: provisioned.key, stateDir: join(dir, 'state'), logger: createLogger({ level: 'silent' }),
    onSwitched: (cert) => events.push(`switched ${cert.serialNumber}`), onNewPairRefused: () => events.push('refused'),
  });
}

const read = (f: string) => readFileSync(f, 'utf8');
const serial = (pem: string | Buffer) => new X509Certificate(pem).serialNumber;

describe('TlsCredentials', () => {
  it('presents the provisioned pair, then a pending one, which becomes current once it connected', () => {
    const c = credentials();
    expect(c.next()).toMatchObject({ name: 'provisioned', key: Buffer.from(read(provisioned.key)) });
    c.installPending(read(renewed.cert), read(renewed.key));
    const attempt = c.next();
    expect(attempt.name).toBe('pending');
    expect(serial(attempt.cert)).toBe(serial(read(renewed.cert)));
    c.connected('pending');
    expect(events).toEqual([`switched ${serial(read(renewed.cert))}`]);
    expect(statSync(join(c.dir, 'current.pem')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(c.dir, 'pending.pem'))).toBe(false);
    expect(c.next().name).toBe('current');
    // a new process finds the same
    expect(credentials().next().name).toBe('current');
    expect(read(provisioned.cert)).toBe(read(join(dir, 'pki', 'provisioned.crt')));
  });

  it('falls back to the previous pair when the pending one fails, and discards it when only the previous one connects', () => {
    const c = credentials();
    c.installPending(read(renewed.cert), read(renewed.key));
    c.failed(c.next().name, true);
    const fallback = c.next();
    expect(fallback.name).toBe('provisioned');
    c.connected(fallback.name);
    const now = c.next().name;
    recordAttack({ area: 'certificate renewal', attack: 'broker refuses the renewed certificate', expected: 'old pair, reported',
      observed: `${now === 'provisioned' ? 'old pair' : `${now} pair`}, ${events.includes('refused') ? 'reported' : 'not reported'}` });
    expect(events).toEqual(['refused']);
    expect(existsSync(join(c.dir, 'pending.pem'))).toBe(false);
    expect(c.next().name).toBe('provisioned');
  });

  it('tries the pending pair again when the broker could not be reached, or refused the previous one too', () => {
    const c = credentials();
    c.installPending(read(renewed.cert), read(renewed.key));
    c.failed(c.next().name, false);
    expect(c.next().name).toBe('pending');
    c.failed('pending', true);
    c.failed(c.next().name, true);
    expect(c.next().name).toBe('pending');
    // after a network failure the pending pair comes first again, and is the one in use once it connected
    c.failed('pending', false);
    c.connected(c.next().name);
    expect(events).toEqual(['switched ' + serial(read(renewed.cert))]);
  });

  it('ignores a damaged, mismatched or expired stored pair', () => {
    const c = credentials();
    c.ensureDir();
    const cases: Array<[string, string]> = [
      ['torn file', read(renewed.key).slice(0, 50)],
      ['key of another pair', `${read(provisioned.key)}${read(renewed.cert)}`],
      ['certificate only', read(renewed.cert)],
    ];
    for (const [attack, content] of cases) {
      writeFileSync(join(c.dir, 'current.pem'), content);
      const used = c.next().name;
      recordAttack({ area: 'certificate renewal', attack: `stored pair: ${attack}`, expected: 'provisioned used', observed: `${used} used` });
      expect(used).toBe('provisioned');
    }
    const expiring = new TlsCredentials({ certFile: provisioned.cert, keyFile: provisioned.key, stateDir: join(dir, 'state'),
      logger: createLogger({ level: 'silent' }), now: () => Date.now() + 91 * 86_400_000 });
    writeFileSync(join(c.dir, 'current.pem'), `${read(renewed.key)}${read(renewed.cert)}`);
    expect(c.next().name).toBe('current');
    expect(expiring.next().name).toBe('provisioned');
  });
});
