import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteState } from '../../../src/carrier/sqlite-store.ts';
import { storeContract } from '../../unit/carrier/outbox-store-contract.ts';

let dir = '';
storeContract('sqlite', {
  open: async () => {
    dir = mkdtempSync(join(tmpdir(), 'regterm-store-'));
    return SqliteState.open({ path: join(dir, 'state.db') });
  },
  reopen: async () => SqliteState.open({ path: join(dir, 'state.db') }),
  cleanup: async () => rmSync(dir, { recursive: true, force: true }),
});

describe('sqlite state database', () => {
  it('uses WAL with synchronous FULL', () => {
    const d = mkdtempSync(join(tmpdir(), 'regterm-store-'));
    const s = SqliteState.open({ path: join(d, 'state.db') });
    s.close();
    const db = new Database(join(d, 'state.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    rmSync(d, { recursive: true, force: true });
  });

  it('moves a corrupt database aside (kept for inspection) and continues on a fresh one', async () => {
    const d = mkdtempSync(join(tmpdir(), 'regterm-store-'));
    const path = join(d, 'state.db');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const fresh = SqliteState.open({ path, now: () => Date.UTC(2026, 0, 2) });
    expect(fresh.recovery).toMatchObject({ aside: `${path}.corrupt-2026-01-02T00-00-00-000Z`, outbox: 0 });
    expect(readdirSync(d)).toContain('state.db.corrupt-2026-01-02T00-00-00-000Z');
    expect(await fresh.outbox.size()).toBe(0);
    fresh.close();
    rmSync(d, { recursive: true, force: true });
  });

  it('keeps seq monotonic across a corrupt database (reserved floor outside the database)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'regterm-store-'));
    const path = join(d, 'state.db');
    const first = SqliteState.open({ path });
    let last = 0;
    for (let i = 0; i < 5; i++) last = await first.state.nextSeq();
    first.close();
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    rmSync(`${path}-wal`, { force: true });
    const fresh = SqliteState.open({ path });
    expect(fresh.recovery).toBeDefined();
    expect(await fresh.state.nextSeq()).toBeGreaterThan(last);
    fresh.close();
    rmSync(d, { recursive: true, force: true });
  });

  it('creates every state file 0600, whatever the umask, and tightens a looser existing database', async () => {
    const d = mkdtempSync(join(tmpdir(), 'regterm-store-'));
    const path = join(d, 'state.db');
    const umask = process.umask(0o022);
    try {
      const s = SqliteState.open({ path });
      await s.state.nextSeq();
      await s.state.claimNonce('n-mode', Date.now() + 60_000, Date.now());
      const modes = Object.fromEntries(readdirSync(d).map((f) => [f, (statSync(join(d, f)).mode & 0o777).toString(8)]));
      s.close();
      expect(Object.keys(modes).sort()).toEqual(['state.db', 'state.db-shm', 'state.db-wal', 'state.db.nonces', 'state.db.seq-floor']);
      expect(Object.values(modes).every((m) => m === '600'), JSON.stringify(modes)).toBe(true);
      chmodSync(path, 0o644);
      SqliteState.open({ path }).close();
      expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    } finally {
      process.umask(umask);
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('reports a full disk as a one-line storage error', async () => {
    const d = mkdtempSync(join(tmpdir(), 'regterm-store-'));
    const s = SqliteState.open({ path: join(d, 'state.db') });
    // max_page_count caps the file like a full filesystem would: SQLite raises SQLITE_FULL.
    s.connection().pragma('max_page_count = 8');
    const big = 'x'.repeat(4000);
    await expect((async () => {
      for (let i = 0; i < 100; i++) await s.outbox.put({ sessionId: `s${i}`, seq: i + 1, jws: big, createdAt: 0 });
    })()).rejects.toThrow(/disk full/);
    s.close();
    rmSync(d, { recursive: true, force: true });
  });
});
