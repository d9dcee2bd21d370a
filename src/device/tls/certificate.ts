import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EXIT, RegtermError, errorMessage } from '../../lib/errors.ts';

/**
 * Facts about the device's TLS client certificate and the checks a renewed one must pass before the terminal uses it
 * (docs/fleet.md "Certificate renewal"). Pure functions over PEM text: the files and the timing are elsewhere.
 */
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY = /-----BEGIN (?:EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:EC |ENCRYPTED )?PRIVATE KEY-----/;
const DAY_MS = 86_400_000;

/** Why an issued certificate was refused (logged, reported in the retained CSR and in telemetry). */
export const CERT_REFUSALS = [
  'not_a_certificate', 'untrusted_issuer', 'wrong_subject', 'not_yet_valid', 'expired', 'wrong_key', 'not_a_client_certificate',
] as const;
export type CertRefusal = (typeof CERT_REFUSALS)[number];

export type CertCheck = { ok: true; cert: X509Certificate } | { ok: false; reason: CertRefusal; detail: string };

/** Every certificate in a PEM bundle (a CA file may hold several). */
export function certificatesIn(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => new X509Certificate(block));
}

/** The CA certificates in a PEM file (the device CA that renewed certificates must chain to). */
export function readCaCertificates(file: string): X509Certificate[] {
  let certs: X509Certificate[];
  try {
    certs = certificatesIn(readFileSync(file, 'utf8'));
  } catch (e: unknown) {
    throw new RegtermError(`cannot read CA certificates in ${file}: ${errorMessage(e)}`, EXIT.config, { cause: e });
  }
  if (certs.length === 0) throw new RegtermError(`no PEM certificate in ${file}`, EXIT.config);
  return certs;
}

/** The first private key in a PEM text (a renewed pair is stored as key + certificate in one file). */
export function privateKeyIn(pem: string): string | undefined {
  return PEM_KEY.exec(pem)?.[0];
}

export function notAfterMs(cert: X509Certificate): number {
  return Date.parse(cert.validTo);
}

export function daysLeft(cert: X509Certificate, now: number): number {
  return Math.floor((notAfterMs(cert) - now) / DAY_MS);
}

/** The certificate's subject CN (undefined when it has none). */
export function commonName(cert: X509Certificate): string | undefined {
  return /^CN=(.*)$/m.exec(cert.subject)?.[1];
}

/** Does the certificate carry this private key's public key? */
export function matchesKey(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

export interface IssuedCheckOptions {
  /** the pinned CA certificate(s) that issue device certificates */
  ca: readonly X509Certificate[];
  deviceId: string;
  /** the public key of the key the CSR was made with */
  publicKey: KeyObject;
  now: number;
}

/**
 * A certificate the carrier returned is used only when it parses, was signed by a pinned CA, names this device
 * (CN = deviceId: the broker maps it to the username and client id), is valid now, and carries the public key of the
 * key this terminal made for the renewal (so it cannot be an older certificate or someone else's).
 */
export function checkIssuedCertificate(pem: string, o: IssuedCheckOptions): CertCheck {
  let cert: X509Certificate;
  try {
    const found = certificatesIn(pem);
    if (found.length === 0) return { ok: false, reason: 'not_a_certificate', detail: 'no PEM certificate' };
    cert = found[0]!;
  } catch (e: unknown) {
    return { ok: false, reason: 'not_a_certificate', detail: errorMessage(e).slice(0, 128) };
  }
  const issuer = o.ca.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
  if (!issuer) return { ok: false, reason: 'untrusted_issuer', detail: `issuer ${cert.issuer.replace(/\n/g, ', ').slice(0, 128)}` };
  const cn = commonName(cert);
  if (cn !== o.deviceId) return { ok: false, reason: 'wrong_subject', detail: `CN ${String(cn).slice(0, 64)}` };
  if (Date.parse(cert.validFrom) > o.now) return { ok: false, reason: 'not_yet_valid', detail: `valid from ${cert.validFrom}` };
  if (notAfterMs(cert) <= o.now) return { ok: false, reason: 'expired', detail: `expired ${cert.validTo}` };
  if (!cert.publicKey.equals(o.publicKey)) return { ok: false, reason: 'wrong_key', detail: 'not the key of the renewal CSR' };
  if (cert.ca) return { ok: false, reason: 'not_a_client_certificate', detail: 'a CA certificate' };
  return { ok: true, cert };
}
