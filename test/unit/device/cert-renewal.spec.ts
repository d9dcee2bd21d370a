import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Topics, certificateRequestSchema, type CertificateRequest } from '../../../src/carrier/protocol.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { certificatesIn } from '../../../src/device/tls/certificate.ts';
import { TlsCredentials } from '../../../src/device/tls/credentials.ts';
import { CertRenewal } from '../../../src/device/tls/renewal.ts';
import { recordAttack } from '../../attacks/table.ts';
import { createPki, type TestPki } from '../../integration/carrier/helpers/pki.ts';

/**
 * The renewal component against a recording link (the broker part is test/integration/agent/cert-renewal.spec.ts):
 * what it publishes, what it refuses on `cert/issued` and where it says so, and that the switch waits for a running
 * session.
 */
const DEVICE = 'term-unit';
const topics = new Topics(DEVICE);
let dir = '';
let pki: TestPki;

class RecordingLink {
  readonly topics = topics;
  readonly retained: Array<[string, string]> = [];
  reconnects = 0;
  listener?: (payload: Buffer) => void;
  onCarrierMessage(topic: string, listener: (payload: Buffer) => void): () => void {
    expect(topic).toBe(topics.certIssued);
    this.listener = listener;
    return () => { this.listener = undefined; };
  }
  publishRetained(topic: string, payload: string): void {
    this.retained.push([topic, payload]);
  }
  reconnect(): void {
    this.reconnects++;
  }
  lastRequest(): CertificateRequest {
    return certificateRequestSchema.parse(JSON.parse(this.retained.filter(([t]) => t === topics.certCsr).at(-1)![1]));
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-renewal-'));
  mkdirSync(join(dir, 'pki'));
  pki = createPki(join(dir, 'pki'));
});

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function setup(busy = { now: false }) {
  const provisioned = pki.clientFor('provisioned', DEVICE, 2);
  const logger = createLogger({ level: 'silent' });
  const credentials = new TlsCredentials({ certFile: provisioned.cert, keyFile: provisioned.key, stateDir: join(dir, 'state'), logger });
  const link = new RecordingLink();
  const renewal = new CertRenewal({
    deviceId: DEVICE, credentials, deviceCa: certificatesIn(readFileSync(pki.ca, 'utf8')), renewBeforeDays: 30,
    checkIntervalMs: 3_600_000, link, isBusy: () => busy.now, logger,
  });
  return { credentials, link, renewal };
}

const deliver = async (link: RecordingLink, payload: string | Buffer) => {
  link.listener!(Buffer.from(payload));
  await new Promise((r) => setTimeout(r, 50));
};

describe('CertRenewal', () => {
  it('asks for a certificate inside the margin, and refuses bad answers in the retained CSR', async () => {
    const { link, renewal } = setup();
    await renewal.start();
    const request = link.lastRequest();
    expect(request).toMatchObject({ v: 1, deviceId: DEVICE });
    expect(renewal.expiring()).toBe(true);
    expect(renewal.status()).toMatchObject({ renewing: true, daysLeft: 1 });
    const cases: Array<[string, string | Buffer, string]> = [
      ['not JSON', 'not json', 'malformed'],
      ['an unknown field', JSON.stringify({ v: 1, deviceId: DEVICE, certificate: 'x', extra: 1 }), 'schema'],
      ['for another device', JSON.stringify({ v: 1, deviceId: 'term-other', certificate: pki.signCsr(request.csr, 90) }), 'wrong_device'],
      ['of 40 KB', Buffer.alloc(40 * 1024, 0x20), 'too_large'],
    ];
    for (const [attack, payload, reason] of cases) {
      await deliver(link, payload);
      const observed = link.lastRequest().refused?.reason;
      recordAttack({ area: 'certificate renewal', attack: `cert/issued ${attack}`, expected: `refused/${reason}`, observed: `refused/${String(observed)}` });
      expect(observed).toBe(reason);
      expect(renewal.status().lastRefusal).toBe(reason);
    }
    expect(link.reconnects).toBe(0);
    await renewal.stop();
  });

  it('switches only once no session runs, and ignores the certificate it uses arriving again', async () => {
    const busy = { now: true };
    const { credentials, link, renewal } = setup(busy);
    await renewal.start();
    const issued = pki.signCsr(link.lastRequest().csr, 90);
    await deliver(link, JSON.stringify({ v: 1, deviceId: DEVICE, certificate: issued }));
    expect(credentials.hasPending()).toBe(true);
    expect(existsSync(credentials.renewalKeyFile)).toBe(false);
    await new Promise((r) => setTimeout(r, 1200));
    expect(link.reconnects).toBe(0);
    busy.now = false;
    await new Promise((r) => setTimeout(r, 1200));
    expect(link.reconnects).toBe(1);
    // what the link does on the next connect
    credentials.connected(credentials.next().name);
    renewal.switched(new X509Certificate(issued));
    expect(link.retained.at(-1)).toEqual([topics.certCsr, '']);
    expect(renewal.status()).toMatchObject({ renewing: false, daysLeft: 89 });
    expect(renewal.expiring()).toBe(false);
    const published = link.retained.length;
    await deliver(link, JSON.stringify({ v: 1, deviceId: DEVICE, certificate: issued }));
    expect(link.retained.length).toBe(published);
    expect(renewal.status().lastRefusal).toBeUndefined();
    await renewal.stop();
  });
});
