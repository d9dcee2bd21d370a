import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { RegtermError, errorMessage } from '../lib/errors.ts';
import { fsyncPath } from '../lib/atomic-write.ts';
import { NonceFile } from './nonce-file.ts';
import { SeqCounter } from './seq-floor.ts';
import { StoreClosedError, type AcceptedSession, type OutboxEntry, type OutboxStore, type StateStore } from './store.ts';

/**
 * The device's durable carrier state: one SQLite file in the state directory (the outbox of signed results, the
 * accepted sessions without a result, the seen-nonce table) and two small files beside it (`<db>.seq-floor`,
 * `<db>.nonces`). WAL mode with synchronous=FULL: a statement that returned is on disk, so a result is committed
 * before the verdict is shown and survives kill -9 and power loss. Every file is created 0600.
 *
 * Failure policy:
 * - A full disk or an unwritable file never stops the agent: open() always returns, and a database that cannot be
 *   opened is retried on the next call (at most every REOPEN_MS). Until then, and for every statement that fails,
 *   calls throw StateStorageError (the link answers requests with `storage_full`). Signing needs no database write
 *   (seq-floor.ts), so refusals can still be signed.
 * - A corrupt file (SQLITE_CORRUPT / SQLITE_NOTADB, or quick_check not ok) is moved aside to
 *   `<file>.corrupt-<timestamp>` (with its -wal/-shm), a fresh database is created, and whatever rows of the outbox,
 *   accepted and nonce tables the moved-aside file still yields are copied into it (`recovery` says what was
 *   found). The seen nonces are also reloaded from `<db>.nonces`, so a replay is refused even when the old file
 *   yields nothing. The moved-aside file is kept for inspection.
 */
export class StateStorageError extends RegtermError {}

/** What open() found when the database was corrupt. */
export interface CorruptRecovery {
  aside: string;
  cause: string;
  outbox: number;
  accepted: number;
  nonces: number;
}

export const REOPEN_MS = 1000;
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS outbox (session_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, jws TEXT NOT NULL,
    created_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS accepted (session_id TEXT PRIMARY KEY, nonce TEXT NOT NULL, accepted_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at);`;

function sqliteCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

export interface SqliteStateOptions {
  path: string;
  /** injected clock: the corrupt-file suffix, reopen pacing */
  now?: () => number;
}

export class SqliteState {
  readonly outbox: OutboxStore;
  readonly state: StateStore;
  /** set when open() found the database corrupt and recovered what it could */
  recovery?: CorruptRecovery;
  private db?: Database.Database;
  private failure?: { at: number; error: StateStorageError };
  private trouble?: StateStorageError;
  private closed = false;
  private readonly nonceFile: NonceFile;
  private seq?: SeqCounter;

  private constructor(readonly path: string, private readonly now: () => number) {
    this.nonceFile = new NonceFile(`${path}.nonces`);
    this.outbox = new SqliteOutboxStore(this);
    this.state = new SqliteStateStore(this, this.nonceFile);
  }

  /** Opens (creating if absent) and checks the database. Never throws for storage: see `storageError`. */
  static open(options: SqliteStateOptions): SqliteState {
    const s = new SqliteState(options.path, options.now ?? Date.now);
    try {
      s.connection();
    } catch (e: unknown) {
      if (!(e instanceof StateStorageError)) throw e;
    }
    // Reserve seq numbers now, while there may still be room, so refusals can be signed if the disk fills later.
    try {
      s.seq = SeqCounter.load(`${s.path}.seq-floor`);
    } catch {
      // unreadable floor file: nextSeq() retries and reports it
    }
    return s;
  }

  /** Why the state cannot be written right now (the last open or statement failed), undefined once one succeeds. */
  get storageError(): StateStorageError | undefined {
    return this.trouble;
  }

  /** Called by the stores after a failed statement or a successful write: tracks `storageError`. */
  noteOutcome(error?: StateStorageError): void {
    this.trouble = error;
  }

  close(): void {
    this.closed = true;
    if (this.db?.open) this.db.close();
  }

  /** The open database, opening it if needed; throws StoreClosedError or StateStorageError. */
  connection(): Database.Database {
    if (this.closed) throw new StoreClosedError();
    if (this.db) return this.db;
    const now = this.now();
    if (this.failure && now - this.failure.at < REOPEN_MS) throw this.failure.error;
    try {
      this.db = this.openDatabase();
      this.failure = undefined;
      return this.db;
    } catch (e: unknown) {
      const error = e instanceof StateStorageError ? e : storageError(this.path, e);
      this.failure = { at: now, error };
      this.trouble = error;
      throw error;
    }
  }

  /** Signing's seq source (loaded at open; loaded here if that failed). */
  nextSeq(): number {
    if (this.closed) throw new StoreClosedError();
    try {
      this.seq ??= SeqCounter.load(`${this.path}.seq-floor`);
      return this.seq.next();
    } catch (e: unknown) {
      throw storageError(`${this.path}.seq-floor`, e);
    }
  }

  private openDatabase(): Database.Database {
    const path = this.path;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const existed = existsSync(path);
    let db: Database.Database;
    try {
      db = openChecked(path);
    } catch (e: unknown) {
      const code = sqliteCode(e);
      if (!code || !CORRUPT_CODES.has(code)) throw e;
      const aside = this.moveAside();
      db = openChecked(path);
      this.recovery = { aside, cause: errorMessage(e), ...copyReadable(aside, db) };
    }
    if (!existed || this.recovery) fsyncPath(dirname(path));
    try {
      this.loadNonceFile(db);
    } catch (e: unknown) {
      db.close();
      throw e;
    }
    return db;
  }

  private moveAside(): string {
    const path = this.path;
    const aside = `${path}.corrupt-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
    }
    fsyncPath(dirname(path));
    return aside;
  }

  /** Merges the nonce file into the table (expired rows are pruned by the next claim, on the claimer's clock). */
  private loadNonceFile(db: Database.Database): void {
    const fromFile = this.nonceFile.read();
    db.transaction(() => {
      const insert = db.prepare('INSERT OR IGNORE INTO nonces (nonce, expires_at) VALUES (?, ?)');
      for (const [nonce, expiresAt] of fromFile) insert.run(nonce, expiresAt);
    }).immediate();
  }
}

function openChecked(path: string): Database.Database {
  createPrivate(path);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    db.exec(SCHEMA);
    for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) privateMode(path + suffix);
    return db;
  } catch (e: unknown) {
    db.close();
    throw e;
  }
}

/**
 * The database file is created 0600 before SQLite opens it (SQLite gives -wal/-shm the database file's mode), and a
 * file left group/world-readable by an older version is tightened.
 */
function createPrivate(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  privateMode(path);
}

function privateMode(path: string): void {
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
}

/** Best effort: the rows a corrupt file still yields, table by table, stopping a table at its first unreadable page. */
function copyReadable(aside: string, db: Database.Database): { outbox: number; accepted: number; nonces: number } {
  const counts = { outbox: 0, accepted: 0, nonces: 0 };
  let old: Database.Database;
  try {
    old = new Database(aside, { readonly: true, fileMustExist: true });
  } catch {
    return counts;
  }
  const copies: Array<[keyof typeof counts, string, string]> = [
    ['outbox', 'SELECT session_id, seq, jws, created_at FROM outbox',
      'INSERT OR IGNORE INTO outbox (session_id, seq, jws, created_at) VALUES (?, ?, ?, ?)'],
    ['accepted', 'SELECT session_id, nonce, accepted_at FROM accepted',
      'INSERT OR IGNORE INTO accepted (session_id, nonce, accepted_at) VALUES (?, ?, ?)'],
    ['nonces', 'SELECT nonce, expires_at FROM nonces', 'INSERT OR IGNORE INTO nonces (nonce, expires_at) VALUES (?, ?)'],
  ];
  try {
    for (const [table, select, insert] of copies) {
      const rows: unknown[][] = [];
      try {
        for (const row of old.prepare(select).raw().iterate()) rows.push(row as unknown[]);
      } catch {
        // unreadable from here on (or the table is missing): keep what was read
      }
      const put = db.prepare(insert);
      db.transaction(() => { for (const row of rows) counts[table] += put.run(...row).changes; }).immediate();
    }
  } finally {
    old.close();
  }
  return counts;
}

function unexpiredNonces(db: Database.Database, now: number): Array<[string, number]> {
  return (db.prepare('SELECT nonce, expires_at FROM nonces WHERE expires_at > ?').raw().all(now) as Array<[string, number]>);
}

function storageError(path: string, e: unknown): StateStorageError {
  const code = sqliteCode(e);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return new StateStorageError(`disk full: cannot write state ${path}`, undefined, { cause: e });
  }
  return new StateStorageError(`state ${path}: ${errorMessage(e)}`, undefined, { cause: e });
}

/** What both stores share: the one connection (opened on demand) and every statement mapped to a storage error. */
abstract class SqliteBacked {
  constructor(protected readonly owner: SqliteState) {}

  async close(): Promise<void> {
    this.owner.close();
  }

  /** `writes`: a success proves the state writable again (a read succeeds on a full disk too). */
  protected run<T>(fn: (db: Database.Database) => T, writes = false): T {
    const db = this.owner.connection();
    try {
      const result = fn(db);
      if (writes) this.owner.noteOutcome();
      return result;
    } catch (e: unknown) {
      if (e instanceof StoreClosedError) throw e;
      const error = storageError(this.owner.path, e);
      this.owner.noteOutcome(error);
      throw error;
    }
  }
}

class SqliteOutboxStore extends SqliteBacked implements OutboxStore {
  async put(entry: OutboxEntry): Promise<OutboxEntry> {
    return this.run((db) =>
      db.transaction(() => {
        db.prepare('INSERT OR IGNORE INTO outbox (session_id, seq, jws, created_at) VALUES (?, ?, ?, ?)')
          .run(entry.sessionId, entry.seq, entry.jws, entry.createdAt);
        db.prepare('DELETE FROM accepted WHERE session_id = ?').run(entry.sessionId);
        return read(db, entry.sessionId)!;
      }).immediate(), true);
  }

  async accept(record: AcceptedSession): Promise<void> {
    this.run((db) => db.prepare(`INSERT OR IGNORE INTO accepted (session_id, nonce, accepted_at) SELECT ?, ?, ?
      WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE session_id = ?)`)
      .run(record.sessionId, record.nonce, record.acceptedAt, record.sessionId), true);
  }

  async accepted(): Promise<AcceptedSession[]> {
    const rows = this.run((db) =>
      db.prepare('SELECT session_id, nonce, accepted_at FROM accepted ORDER BY accepted_at, session_id').all());
    return (rows as Array<{ session_id: string; nonce: string; accepted_at: number }>)
      .map((r) => ({ sessionId: r.session_id, nonce: r.nonce, acceptedAt: r.accepted_at }));
  }

  async get(sessionId: string): Promise<OutboxEntry | undefined> {
    return this.run((db) => read(db, sessionId));
  }

  async del(sessionId: string): Promise<boolean> {
    return this.run((db) => db.prepare('DELETE FROM outbox WHERE session_id = ?').run(sessionId).changes > 0, true);
  }

  async *stream(): AsyncIterable<OutboxEntry> {
    // Materialise first: an open iterator would block writes (acks deleting rows) on the same connection.
    const rows = this.run((db) => db.prepare('SELECT session_id, seq, jws, created_at FROM outbox ORDER BY seq').all());
    for (const row of rows) yield toEntry(row);
  }

  async size(): Promise<number> {
    return this.run((db) => (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n);
  }
}

function read(db: Database.Database, sessionId: string): OutboxEntry | undefined {
  const row = db.prepare('SELECT session_id, seq, jws, created_at FROM outbox WHERE session_id = ?').get(sessionId);
  return row ? toEntry(row) : undefined;
}

function toEntry(row: unknown): OutboxEntry {
  const r = row as { session_id: string; seq: number; jws: string; created_at: number };
  return { sessionId: r.session_id, seq: r.seq, jws: r.jws, createdAt: r.created_at };
}

class SqliteStateStore extends SqliteBacked implements StateStore {
  constructor(owner: SqliteState, private readonly nonceFile: NonceFile) {
    super(owner);
  }

  async nextSeq(): Promise<number> {
    return this.owner.nextSeq();
  }

  /** The nonce is appended to the nonce file (fsynced) inside the transaction that inserts it, before it commits. */
  async claimNonce(nonce: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return this.run((db) => {
      const claimed = db.transaction(() => {
        db.prepare('DELETE FROM nonces WHERE expires_at <= ?').run(nowMs);
        if (db.prepare('SELECT 1 FROM nonces WHERE nonce = ?').get(nonce)) return false;
        this.nonceFile.append(nonce, expiresAtMs);
        db.prepare('INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)').run(nonce, expiresAtMs);
        return true;
      }).immediate();
      if (claimed && this.nonceFile.wantsPrune) {
        try {
          this.nonceFile.rewrite(unexpiredNonces(db, nowMs));
        } catch {
          // a full disk: keep appending to the unpruned file
        }
      }
      return claimed;
    }, true);
  }
}
