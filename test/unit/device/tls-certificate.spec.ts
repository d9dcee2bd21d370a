import { createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTlsKey, makeCsr } from '../../../src/device/provision/tls.ts';
import { writeFileAtomic } from '../../../src/lib/atomic-write.ts';
import { checkIssuedCertificate, certificatesIn, notAfterMs, type CertRefusal } from '../../../src/device/tls/certificate.ts';
import { recordAttack } from '../../attacks/table.ts';
import { createPki, type TestPki } from '../../integration/carrier/helpers/pki.ts';

/**
 * The checks a renewed certificate must pass before the terminal uses it (src/device/tls/certificate.ts), against
 * certificates a real openssl CA issued: the right one passes; another CA, another key, another CN, outside its
 * validity, a CA certificate or no certificate at all is refused with its reason.
 */
const DEVICE = 'term-cert';
let dir = '';
let pki: TestPki;
let other: TestPki;
let keyPem = '';
let csr = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-cert-'));
  mkdirSync(join(dir, 'pki'));
  mkdirSync(join(dir, 'other'));
  pki = createPki(join(dir, 'pki'));
  other = createPki(join(dir, 'other'), 'some-other-ca');
  keyPem = generateTlsKey();
  writeFileAtomic(join(dir, 'renewal.key'), keyPem);
  csr = makeCsr(join(dir, 'renewal.key'), DEVICE);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const check = (pem: string, now = Date.now(), deviceId = DEVICE) => checkIssuedCertificate(pem, {
  ca: certificatesIn(readFileSync(pki.ca, 'utf8')), deviceId, publicKey: createPublicKey(keyPem), now,
});

describe('checkIssuedCertificate', () => {
  it('accepts a certificate the pinned CA issued for the renewal key and this device', () => {
    const result = check(pki.signCsr(csr, 90));
    expect(result.ok).toBe(true);
    if (result.ok) expect(notAfterMs(result.cert) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    // the chain the carrier may append is ignored
    expect(check(`${pki.signCsr(csr, 90)}${readFileSync(pki.ca, 'utf8')}`).ok).toBe(true);
  });

  const cases: Array<[string, () => string, CertRefusal, number?]> = [
    ['signed by another CA', () => other.signCsr(csr, 90), 'untrusted_issuer'],
    ['for another key', () => readFileSync(pki.clientFor('stolen', DEVICE, 90).cert, 'utf8'), 'wrong_key'],
    ['for another device (CN)', () => readFileSync(pki.client('term-other').cert, 'utf8'), 'wrong_subject'],
    ['expired', () => pki.signCsr(csr, 1), 'expired', Date.now() + 2 * 86_400_000],
    ['not yet valid', () => pki.signCsr(csr, 90), 'not_yet_valid', Date.now() - 86_400_000],
    ['the CA certificate itself', () => readFileSync(pki.ca, 'utf8'), 'wrong_subject'],
    ['not a certificate', () => 'hello', 'not_a_certificate'],
    ['a damaged PEM', () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'not_a_certificate'],
    ['a CSR instead of a certificate', () => csr, 'not_a_certificate'],
  ];
  for (const [attack, pem, reason, now] of cases) {
    it(`refuses a certificate ${attack}: ${reason}`, () => {
      const result = check(pem(), now);
      recordAttack({ area: 'certificate renewal', attack: `issued certificate ${attack}`, expected: `refused/${reason}`,
        observed: result.ok ? 'accepted' : `refused/${result.reason}` });
      expect(result).toMatchObject({ ok: false, reason });
    });
  }
});
