import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NonceFile } from '../../../src/carrier/nonce-file.ts';
import { SEQ_BLOCK, SeqCounter } from '../../../src/carrier/seq-floor.ts';

/** The two small files beside state.db: the seq floor and the nonce file. */
let dir = '';
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'regterm-state-files-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('seq floor', () => {
  it('each run starts above everything an earlier run may have used, and reserves before it uses', () => {
    const path = join(dir, 'state.db.seq-floor');
    const first = SeqCounter.load(path);
    const used = Array.from({ length: SEQ_BLOCK }, () => first.next());
    expect(used[0]).toBe(1);
    expect(Number(readFileSync(path, 'utf8'))).toBeGreaterThanOrEqual(used.at(-1)! + SEQ_BLOCK / 2);
    const second = SeqCounter.load(path);
    expect(second.next()).toBeGreaterThan(used.at(-1)!);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('reads the older unpadded floor format', () => {
    const path = join(dir, 'state.db.seq-floor');
    writeFileSync(path, '1000\n');
    expect(SeqCounter.load(path).next()).toBe(1001);
  });
});

describe('nonce file', () => {
  it('keeps the latest expiry per claim, skips lines that are not claims, and prunes on rewrite', () => {
    const path = join(dir, 'state.db.nonces');
    const file = new NonceFile(path);
    file.append('nonce-a-0123456789', 1000);
    file.append('session:s-1.x', 5000);
    file.append('nonce-a-0123456789', 3000);
    appendFileSync(path, 'garbage line\n17'); // a foreign line, and a power cut inside an append's number
    expect([...file.read()]).toEqual([['nonce-a-0123456789', 3000], ['session:s-1.x', 5000]]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    file.rewrite([...file.read()].filter(([, exp]) => exp > 4000));
    expect(readFileSync(path, 'utf8')).toBe('5000 session:s-1.x\n');
  });
});
