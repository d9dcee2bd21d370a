import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { RegtermError, errorMessage } from '../errors.ts';
import { fsyncDir, writeFileAtomic } from '../device/atomic-write.ts';
import { StoreClosedError, type OutboxEntry, type OutboxStore, type StateStore } from './store.ts';

/**
 * The device's durable carrier state in one SQLite file in the state directory: the outbox of signed results, the
 * seq counter and the seen-nonce table. WAL mode with synchronous=FULL: a statement that returned is on disk, so a
 * result is committed before the verdict is shown and survives kill -9 and power loss.
 *
 * Failure policy:
 * - A corrupt file (SQLITE_CORRUPT / SQLITE_NOTADB, or quick_check not ok) is moved aside to
 *   `<file>.corrupt-<timestamp>` (with its -wal/-shm) and open throws StateCorruptError naming it. Never reset in
 *   place: the undelivered results in it can still be recovered by hand. The next start creates a fresh file.
 * - A full disk (SQLITE_FULL) or unwritable file throws StateStorageError with the path and a one-line cause.
 *
 * seq stays monotonic even across a corrupt database: seq numbers are reserved in blocks of SEQ_BLOCK in
 * `<file>.seq-floor` (atomic write, outside the database) before any of them is used, and a fresh database starts
 * its counter at that floor.
 */
export const SEQ_BLOCK = 1000;
export class StateCorruptError extends RegtermError {}
export class StateStorageError extends RegtermError {}

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

function sqliteCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

export interface SqliteStateOptions {
  path: string;
  /** injected clock for the corrupt-file suffix */
  now?: () => number;
}

export class SqliteState {
  readonly outbox: OutboxStore;
  readonly state: StateStore;
  private constructor(private readonly db: Database.Database, readonly path: string, seqFloor: number) {
    this.outbox = new SqliteOutboxStore(db, path);
    this.state = new SqliteStateStore(db, path, `${path}.seq-floor`, seqFloor);
  }

  /** Opens (creating if absent) and checks the database. Throws StateCorruptError / StateStorageError. */
  static open(options: SqliteStateOptions): SqliteState {
    const { path } = options;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const existed = existsSync(path);
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
      db.exec(`
        CREATE TABLE IF NOT EXISTS outbox (session_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, jws TEXT NOT NULL,
          created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at);`);
      const floorText = existsSync(`${path}.seq-floor`) ? readFileSync(`${path}.seq-floor`, 'utf8').trim() : '0';
      const seqFloor = /^\d+$/.test(floorText) ? Number(floorText) : 0;
      db.prepare(`INSERT OR IGNORE INTO counters (name, value) VALUES ('seq', ?)`).run(seqFloor);
      if (!existed) fsyncDir(dirname(path));
      return new SqliteState(db, path, seqFloor);
    } catch (e: unknown) {
      db?.close();
      const code = sqliteCode(e);
      if (code && CORRUPT_CODES.has(code)) {
        const aside = `${path}.corrupt-${new Date((options.now ?? Date.now)()).toISOString().replace(/[:.]/g, '-')}`;
        for (const suffix of ['', '-wal', '-shm']) {
          if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
        }
        fsyncDir(dirname(path));
        throw new StateCorruptError(
          `state database ${path} is corrupt (${errorMessage(e)}); moved aside to ${aside}; a fresh one is created on next start`,
          undefined, { cause: e });
      }
      throw storageError(path, e);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function storageError(path: string, e: unknown): RegtermError {
  const code = sqliteCode(e);
  if (code === 'SQLITE_FULL') return new StateStorageError(`disk full: cannot write state database ${path}`, undefined, { cause: e });
  return new StateStorageError(`state database ${path}: ${errorMessage(e)}`, undefined, { cause: e });
}

/** What both stores share: one connection, closed once, and every statement mapped to a clear storage error. */
abstract class SqliteBacked {
  constructor(protected readonly db: Database.Database, protected readonly path: string) {}

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  protected run<T>(fn: () => T): T {
    if (!this.db.open) throw new StoreClosedError();
    try {
      return fn();
    } catch (e: unknown) {
      throw storageError(this.path, e);
    }
  }
}

class SqliteOutboxStore extends SqliteBacked implements OutboxStore {

  async put(entry: OutboxEntry): Promise<OutboxEntry> {
    return this.run(() =>
      this.db.transaction(() => {
        this.db.prepare('INSERT OR IGNORE INTO outbox (session_id, seq, jws, created_at) VALUES (?, ?, ?, ?)')
          .run(entry.sessionId, entry.seq, entry.jws, entry.createdAt);
        return this.read(entry.sessionId)!;
      }).immediate());
  }

  async get(sessionId: string): Promise<OutboxEntry | undefined> {
    return this.run(() => this.read(sessionId));
  }

  async del(sessionId: string): Promise<boolean> {
    return this.run(() => this.db.prepare('DELETE FROM outbox WHERE session_id = ?').run(sessionId).changes > 0);
  }

  async *stream(): AsyncIterable<OutboxEntry> {
    // Materialise first: an open iterator would block writes (acks deleting rows) on the same connection.
    const rows = this.run(() => this.db.prepare('SELECT session_id, seq, jws, created_at FROM outbox ORDER BY seq').all());
    for (const row of rows) yield toEntry(row);
  }

  async size(): Promise<number> {
    return this.run(() => (this.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n);
  }

  private read(sessionId: string): OutboxEntry | undefined {
    const row = this.db.prepare('SELECT session_id, seq, jws, created_at FROM outbox WHERE session_id = ?').get(sessionId);
    return row ? toEntry(row) : undefined;
  }
}

function toEntry(row: unknown): OutboxEntry {
  const r = row as { session_id: string; seq: number; jws: string; created_at: number };
  return { sessionId: r.session_id, seq: r.seq, jws: r.jws, createdAt: r.created_at };
}

class SqliteStateStore extends SqliteBacked implements StateStore {
  constructor(db: Database.Database, path: string, private readonly floorPath: string, private reservedUpTo: number) {
    super(db, path);
  }

  async nextSeq(): Promise<number> {
    return this.run(() => {
      const row = this.db.prepare(`UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value`)
        .get() as { value: number };
      if (row.value > this.reservedUpTo) {
        this.reservedUpTo = row.value + SEQ_BLOCK;
        writeFileAtomic(this.floorPath, `${this.reservedUpTo}\n`);
      }
      return row.value;
    });
  }

  async claimNonce(nonce: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return this.run(() =>
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM nonces WHERE expires_at <= ?').run(nowMs);
        return this.db.prepare('INSERT OR IGNORE INTO nonces (nonce, expires_at) VALUES (?, ?)').run(nonce, expiresAtMs)
          .changes === 1;
      }).immediate());
  }
}
