import { createPublicKey, type X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { Component } from '../../lib/agent.ts';
import {
  PROTOCOL_VERSION, issuedCertificateSchema, type CertificateRequest, type Topics,
} from '../../carrier/protocol.ts';
import { errorMessage } from '../../lib/errors.ts';
import { writeFileAtomic } from '../../lib/atomic-write.ts';
import type { Logger } from '../../lib/logger.ts';
import { generateTlsKey, makeCsr } from '../provision/tls.ts';
import { untrustedText } from '../../lib/untrusted-text.ts';
import { certificatesIn, checkIssuedCertificate, daysLeft, notAfterMs } from './certificate.ts';
import type { TlsCredentials } from './credentials.ts';

/**
 * Renews the TLS client certificate before it expires (docs/fleet.md "Certificate renewal"):
 *
 * 1. Every `checkIntervalMs` (and at start) the notAfter of the certificate in use is read. Inside `renewBeforeDays`
 *    the terminal is degraded (`certificate_expiring`) and, unless a renewed pair is already waiting, makes a new
 *    EC P-256 key (`<stateDir>/tls/renewal.key`, 0600; kept across restarts) and a CSR with CN = deviceId, published
 *    retained on `cert/csr` so a carrier that was away still finds it.
 * 2. A certificate on `cert/issued` is used only when it passes checkIssuedCertificate (pinned device CA, CN, validity,
 *    the renewal key). A refused one is logged and its reason is republished in the retained CSR and in telemetry;
 *    the terminal keeps its certificate and key and waits for another.
 * 3. An accepted one is stored as the pending pair (credentials.ts); once no session runs, the link reconnects and
 *    uses it. When it connected, the retained CSR is cleared; when the broker refuses it, a new renewal starts.
 */
export interface CertRenewalLink {
  readonly topics: Topics;
  onCarrierMessage(topic: string, listener: (payload: Buffer) => void): () => void;
  publishRetained(topic: string, payload: string): void;
  reconnect(reason: string): void;
}

export interface CertRenewalOptions {
  deviceId: string;
  credentials: TlsCredentials;
  /** the pinned CA certificate(s) that issue device certificates */
  deviceCa: readonly X509Certificate[];
  renewBeforeDays: number;
  checkIntervalMs: number;
  link: CertRenewalLink;
  /** a session is running: the switch to a new certificate waits for it */
  isBusy: () => boolean;
  logger: Logger;
  now?: () => number;
  /** CSR for a key file (default: openssl, as provisioning does) */
  makeCsr?: (keyPath: string, deviceId: string) => string;
}

export interface CertStatus {
  notAfter: string | null;
  daysLeft: number | null;
  /** a CSR is out or an issued certificate waits to be used */
  renewing: boolean;
  /** why the last issued certificate was not used */
  lastRefusal?: string;
}

const DAY_MS = 86_400_000;
const MAX_ISSUED_BYTES = 32 * 1024;
/** how often a switch waiting for a running session looks again */
const IDLE_POLL_MS = 1000;

export class CertRenewal implements Component {
  readonly name = 'cert-renewal';
  private readonly log: Logger;
  private readonly now: () => number;
  private unsubscribe?: () => void;
  private checkHandle?: NodeJS.Timeout;
  private switchHandle?: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  /** the CSR published by this process (re-made from renewal.key after a restart) */
  private request?: CertificateRequest;
  private lastRefusal?: CertificateRequest['refused'];

  constructor(private readonly o: CertRenewalOptions) {
    this.log = o.logger.child({ component: 'cert-renewal' });
    this.now = o.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.unsubscribe = this.o.link.onCarrierMessage(this.o.link.topics.certIssued, (payload) => {
      this.queue = this.queue.then(() => this.onIssued(payload)).catch((e: unknown) => {
        this.log.error({ err: errorMessage(e) }, 'issued certificate handling failed');
      });
    });
    this.check();
    this.checkHandle = setInterval(() => this.check(), this.o.checkIntervalMs);
    if (this.o.credentials.hasPending()) this.switchWhenIdle();
  }

  async stop(): Promise<void> {
    clearInterval(this.checkHandle);
    clearInterval(this.switchHandle);
    this.unsubscribe?.();
    await this.queue;
  }

  /** Inside the renewal margin (the status reason `certificate_expiring`). */
  expiring(): boolean {
    const cert = this.o.credentials.inUse();
    return cert !== undefined && notAfterMs(cert) - this.now() < this.o.renewBeforeDays * DAY_MS;
  }

  status(): CertStatus {
    const cert = this.o.credentials.inUse();
    return {
      notAfter: cert ? new Date(notAfterMs(cert)).toISOString() : null,
      daysLeft: cert ? daysLeft(cert, this.now()) : null,
      renewing: this.request !== undefined || this.o.credentials.hasPending(),
      ...(this.lastRefusal ? { lastRefusal: this.lastRefusal.reason } : {}),
    };
  }

  /** The pending pair connected: renewal done. */
  switched(cert: X509Certificate): void {
    this.request = undefined;
    this.lastRefusal = undefined;
    this.o.link.publishRetained(this.o.link.topics.certCsr, '');
    this.log.info({ notAfter: cert.validTo, daysLeft: daysLeft(cert, this.now()) }, 'certificate renewed');
  }

  /** The broker refused the pending pair: report it and start over at once with a new key. */
  newPairRefused(): void {
    this.request = undefined;
    this.lastRefusal = { reason: 'broker_refused', detail: 'the broker did not accept the issued certificate', at: new Date(this.now()).toISOString() };
    this.check();
  }

  /** Starts a renewal when inside the margin and none is under way. */
  check(): void {
    if (!this.expiring() || this.request || this.o.credentials.hasPending()) return;
    try {
      this.publishRequest(this.renewalKey());
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e) }, 'could not make a certificate signing request');
    }
  }

  /** The renewal key: the one kept from an earlier start, else a new one (0600). */
  private renewalKey(): string {
    const file = this.o.credentials.renewalKeyFile;
    try {
      return readFileSync(file, 'utf8');
    } catch {
      this.o.credentials.ensureDir();
      const key = generateTlsKey();
      writeFileAtomic(file, key);
      this.log.info('renewal key made');
      return key;
    }
  }

  private publishRequest(keyPem: string): void {
    createPublicKey(keyPem); // a damaged key file fails here, before a CSR goes out
    const cert = this.o.credentials.inUse()!;
    const csr = (this.o.makeCsr ?? makeCsr)(this.o.credentials.renewalKeyFile, this.o.deviceId);
    this.request = {
      v: PROTOCOL_VERSION, deviceId: this.o.deviceId, csr, notAfter: new Date(notAfterMs(cert)).toISOString(),
      requestedAt: new Date(this.now()).toISOString(), ...(this.lastRefusal ? { refused: this.lastRefusal } : {}),
    };
    this.o.link.publishRetained(this.o.link.topics.certCsr, JSON.stringify(this.request));
    this.log.warn({ notAfter: this.request.notAfter, daysLeft: daysLeft(cert, this.now()) }, 'certificate expiring: renewal requested');
  }

  private async onIssued(payload: Buffer): Promise<void> {
    if (payload.length === 0) return; // a cleared retained message
    if (payload.length > MAX_ISSUED_BYTES) return this.refuse('too_large', `${payload.length} bytes`);
    let message: unknown;
    try {
      message = JSON.parse(payload.toString('utf8'));
    } catch (e: unknown) {
      return this.refuse('malformed', untrustedText(e));
    }
    const parsed = issuedCertificateSchema.safeParse(message);
    if (!parsed.success) return this.refuse('schema', untrustedText(parsed.error.issues[0]?.message));
    if (parsed.data.deviceId !== this.o.deviceId) return this.refuse('wrong_device', `for ${untrustedText(parsed.data.deviceId, 64)}`);
    const inUse = this.o.credentials.inUse();
    let keyPem: string;
    try {
      keyPem = readFileSync(this.o.credentials.renewalKeyFile, 'utf8');
    } catch {
      // the carrier answering a retained CSR again after the switch: the certificate is the one in use already
      if (inUse && sameCertificate(parsed.data.certificate, inUse)) return;
      return this.refuse('no_renewal', 'no renewal key is waiting for a certificate');
    }
    const check = checkIssuedCertificate(parsed.data.certificate, {
      ca: this.o.deviceCa, deviceId: this.o.deviceId, publicKey: createPublicKey(keyPem), now: this.now(),
    });
    if (!check.ok) return this.refuse(check.reason, check.detail);
    this.o.credentials.installPending(check.cert.toString(), keyPem);
    rmSync(this.o.credentials.renewalKeyFile, { force: true });
    this.lastRefusal = undefined;
    this.log.info({ notAfter: check.cert.validTo, serial: check.cert.serialNumber }, 'issued certificate accepted: used from the next connection');
    this.switchWhenIdle();
  }

  private refuse(reason: string, detail: string): void {
    this.lastRefusal = { reason, detail: untrustedText(detail, 150), at: new Date(this.now()).toISOString() };
    this.log.warn({ reason, detail: this.lastRefusal.detail }, 'issued certificate refused');
    if (this.request) {
      this.request = { ...this.request, refused: this.lastRefusal };
      this.o.link.publishRetained(this.o.link.topics.certCsr, JSON.stringify(this.request));
    }
  }

  /** Reconnects with the pending pair as soon as no session is running (a session's messages are not cut off). */
  private switchWhenIdle(): void {
    clearInterval(this.switchHandle);
    const attempt = (): boolean => {
      if (this.o.isBusy()) return false;
      clearInterval(this.switchHandle);
      this.o.link.reconnect('renewed certificate');
      return true;
    };
    if (!attempt()) this.switchHandle = setInterval(attempt, IDLE_POLL_MS);
  }
}

function sameCertificate(pem: string, cert: X509Certificate): boolean {
  try {
    return certificatesIn(pem)[0]?.fingerprint256 === cert.fingerprint256;
  } catch {
    return false;
  }
}
