import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncPath, writeFileAtomic } from '../lib/atomic-write.ts';

/**
 * The seen-nonce memory's second copy: an append-only file next to the state database (`<db>.nonces`), one
 * `<expiresAtMs> <nonce>` line per claim, fsynced before the claim counts. It survives a corrupt database (which is
 * moved aside with its nonce table), so a request captured before the corruption is still refused as a replay.
 * Pruned by expiry (on the claimer's clock) when rewritten atomically: at the first claim after open and then every
 * PRUNE_EVERY appends. A torn last line (power cut mid-append) is ignored: that claim was never acknowledged.
 */
/** any claim key without whitespace (nonces, and whatever else the validator claims in the nonce table) */
const LINE = /^(\d{1,16}) (\S{1,256})$/;
const PRUNE_EVERY = 1000;

export class NonceFile {
  private appended = PRUNE_EVERY;

  constructor(private readonly path: string) {}

  /** The nonces in the file, nonce → expiresAtMs (expired ones too: expiry is the claimer's business). */
  read(): Map<string, number> {
    const nonces = new Map<string, number>();
    if (!existsSync(this.path)) return nonces;
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      const m = LINE.exec(line);
      if (!m) continue;
      nonces.set(m[2]!, Math.max(Number(m[1]), nonces.get(m[2]!) ?? 0));
    }
    return nonces;
  }

  /** Durable when it returns (a file it had to create is in its directory durably too). */
  append(nonce: string, expiresAtMs: number): void {
    const created = !existsSync(this.path);
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, `${expiresAtMs} ${nonce}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) fsyncPath(dirname(this.path));
    this.appended++;
  }

  /** True after open and once enough was appended since the last rewrite that pruning is worth a rewrite. */
  get wantsPrune(): boolean {
    return this.appended >= PRUNE_EVERY;
  }

  /** Replaces the file with exactly `nonces` (the unexpired ones). */
  rewrite(nonces: Iterable<[string, number]>): void {
    let text = '';
    for (const [nonce, expiresAt] of nonces) text += `${expiresAt} ${nonce}\n`;
    writeFileAtomic(this.path, text);
    this.appended = 0;
  }
}
