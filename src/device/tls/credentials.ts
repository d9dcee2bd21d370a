import type { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../lib/logger.ts';
import { errorMessage } from '../../lib/errors.ts';
import { fsyncPath, writeFileAtomic } from '../../lib/atomic-write.ts';
import { certificatesIn, matchesKey, notAfterMs, privateKeyIn } from './certificate.ts';

/**
 * The TLS client certificate and key the broker link presents, chosen again for every connection attempt.
 *
 * Provisioning writes the first pair under /etc/regterm/tls, which the service cannot write (ProtectSystem=strict), so
 * renewed pairs live in `<stateDir>/tls/` (0700 directory, 0600 files), each as one PEM file holding the key and its
 * certificate, so a pair is replaced by a single atomic rename and can never be torn:
 *   renewal.key   the key a renewal CSR was made with, waiting for its certificate
 *   pending.pem   a checked, issued pair not yet accepted by the broker
 *   current.pem   the renewed pair in use since it first connected
 *
 * - The pending pair is tried first. When its attempt connects, it becomes current (rename); until then the pair
 *   before it stays untouched. When the broker was reached but did not accept it, the next attempt uses the pair
 *   before it; if that one connects, the broker refuses the new pair: it is discarded and reported. A broker that is
 *   down or unreachable says nothing about a pair: the pending one is tried again.
 * - Otherwise the valid pair (key matches the certificate, not expired) with the later notAfter of the provisioned
 *   and the current one is used, so a re-provisioned certificate is not shadowed by an older renewed one.
 */
export type PairName = 'provisioned' | 'current' | 'pending';

export interface ClientPair {
  name: PairName;
  cert: Buffer;
  key: Buffer;
}

export interface TlsCredentialsOptions {
  certFile: string;
  keyFile: string;
  stateDir: string;
  logger: Logger;
  now?: () => number;
  /** a pending pair became the one in use */
  onSwitched?: (cert: X509Certificate) => void;
  /** the broker did not accept a pending pair that the previous pair still connects with */
  onNewPairRefused?: () => void;
}

interface LoadedPair extends ClientPair {
  /** undefined only for a provisioned certificate that does not parse (the broker will say so) */
  x509?: X509Certificate;
}

export class TlsCredentials {
  readonly dir: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private pendingFailed = false;
  private connectedWith?: X509Certificate;

  constructor(private readonly o: TlsCredentialsOptions) {
    this.dir = join(o.stateDir, 'tls');
    this.log = o.logger.child({ component: 'tls-credentials' });
    this.now = o.now ?? Date.now;
  }

  get renewalKeyFile(): string { return join(this.dir, 'renewal.key'); }
  private get pendingFile(): string { return join(this.dir, 'pending.pem'); }
  private get currentFile(): string { return join(this.dir, 'current.pem'); }

  /** The pair for the next connection attempt (read from disk each time, like the provisioned files always were). */
  next(): ClientPair {
    const pending = this.pendingFailed ? undefined : this.stored('pending', this.pendingFile);
    const pair = pending ?? this.established();
    return { name: pair.name, cert: pair.cert, key: pair.key };
  }

  /** The link's attempt with `name` connected. */
  connected(name: PairName): void {
    if (name === 'pending') {
      const x509 = this.stored('pending', this.pendingFile)?.x509;
      if (!x509) return; // removed while connecting: the next attempt takes what is there
      try {
        renameSync(this.pendingFile, this.currentFile);
        fsyncPath(this.dir);
      } catch (e: unknown) {
        this.log.error({ err: errorMessage(e) }, 'could not keep the renewed certificate pair');
        return;
      }
      this.pendingFailed = false;
      this.connectedWith = x509;
      this.log.info({ notAfter: x509.validTo, serial: x509.serialNumber }, 'renewed certificate connected: now in use');
      this.o.onSwitched?.(x509);
      return;
    }
    this.connectedWith = this.established().x509;
    if (this.pendingFailed && this.stored('pending', this.pendingFile)) {
      this.log.error('the broker refused the renewed certificate that the previous one still connects with: discarded');
      rmSync(this.pendingFile, { force: true });
      fsyncPath(this.dir);
      this.pendingFailed = false;
      this.o.onNewPairRefused?.();
    }
  }

  /**
   * The link's attempt with `name` closed before it connected. Only a refusal by a broker that was reached puts the
   * pending pair in doubt; a network failure says nothing about it.
   */
  failed(name: PairName, reachedBroker: boolean): void {
    if (name === 'pending') {
      if (!reachedBroker) return;
      this.pendingFailed = true;
      this.log.warn('the broker did not accept the renewed certificate: the next attempt uses the previous one');
    } else {
      this.pendingFailed = false;
    }
  }

  /** The certificate of the pair in use: the one that last connected, else the one the next attempt would use. */
  inUse(): X509Certificate | undefined {
    return this.connectedWith ?? this.established().x509;
  }

  hasPending(): boolean {
    return this.stored('pending', this.pendingFile) !== undefined;
  }

  /** Stores a checked, issued pair as pending (0600, atomic): the next connection attempt uses it. */
  installPending(certPem: string, keyPem: string): void {
    this.ensureDir();
    writeFileAtomic(this.pendingFile, `${keyPem.trim()}\n${certPem.trim()}\n`);
    this.pendingFailed = false;
  }

  ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The provisioned pair or the current renewed one, whichever valid one lasts longer; the provisioned one if neither is valid. */
  private established(): LoadedPair {
    const provisioned = this.provisioned();
    const current = this.stored('current', this.currentFile);
    if (current && (!provisioned.x509 || notAfterMs(current.x509!) > notAfterMs(provisioned.x509))) return current;
    return provisioned;
  }

  private provisioned(): LoadedPair {
    const cert = readFileSync(this.o.certFile);
    const key = readFileSync(this.o.keyFile);
    let x509: X509Certificate | undefined;
    try {
      x509 = certificatesIn(cert.toString())[0];
    } catch {
      x509 = undefined;
    }
    return { name: 'provisioned', cert, key, x509 };
  }

  /** A stored pair when its file exists, holds a key and a matching certificate, and has not expired. */
  private stored(name: PairName, file: string): (LoadedPair & { x509: X509Certificate }) | undefined {
    try {
      const text = readFileSync(file, 'utf8');
      const key = privateKeyIn(text);
      const x509 = certificatesIn(text)[0];
      if (!key || !x509 || !matchesKey(x509, key) || notAfterMs(x509) <= this.now()) return undefined;
      return { name, cert: Buffer.from(x509.toString()), key: Buffer.from(key), x509 };
    } catch {
      return undefined; // absent or unreadable: not a pair to use
    }
  }
}
