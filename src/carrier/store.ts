/**
 * Persistence seams for the carrier link (MQTT.js src/lib/store.ts `IStore` is the model). Two implementations:
 * memory (tests, demo) and SQLite (device). One abstract contract suite runs against both
 * (test/unit/carrier/outbox-store-contract.ts).
 *
 * OutboxStore contract:
 * - put(entry) is durable when it resolves (SQLite: committed with synchronous=FULL). Putting a sessionId that is
 *   already stored keeps the stored entry and resolves to it: the same session always re-delivers the same bytes.
 *   put() also forgets the session's accepted record, atomically with storing the entry.
 * - accept(record) durably records a session that was admitted and is about to run (idempotent per sessionId; a
 *   no-op while the outbox holds that session's result);
 *   accepted() lists the records that have no result yet, oldest first. After a crash those are the sessions that
 *   owe the carrier an `interrupted` result.
 * - get/del by sessionId; del resolves false when absent.
 * - stream() yields the entries present when it is called, ascending by seq.
 * - size() counts entries; close() releases the store, after which calls reject.
 *
 * StateStore contract:
 * - nextSeq() returns a number greater than any it returned before, across restarts (gaps are allowed).
 * - claimNonce(nonce, expiresAtMs, nowMs) returns true the first time a nonce is seen within its validity window and
 *   false afterwards (until it expired); claims survive restarts. Expired nonces may be pruned.
 */
export interface OutboxEntry {
  sessionId: string;
  seq: number;
  /** the signed result, JWS compact */
  jws: string;
  createdAt: number;
}

/** A session admitted to run: enough to sign its `interrupted` result if the agent dies before deciding it. */
export interface AcceptedSession {
  sessionId: string;
  nonce: string;
  acceptedAt: number;
}

export interface OutboxStore {
  put(entry: OutboxEntry): Promise<OutboxEntry>;
  accept(record: AcceptedSession): Promise<void>;
  accepted(): Promise<AcceptedSession[]>;
  get(sessionId: string): Promise<OutboxEntry | undefined>;
  del(sessionId: string): Promise<boolean>;
  stream(): AsyncIterable<OutboxEntry>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface StateStore {
  nextSeq(): Promise<number>;
  claimNonce(nonce: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export class StoreClosedError extends Error {
  constructor() {
    super('store is closed');
  }
}

export class MemoryOutboxStore implements OutboxStore {
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly admitted = new Map<string, AcceptedSession>();
  private closed = false;

  async put(entry: OutboxEntry): Promise<OutboxEntry> {
    this.check();
    this.admitted.delete(entry.sessionId);
    const existing = this.entries.get(entry.sessionId);
    if (existing) return existing;
    const copy = { ...entry };
    this.entries.set(entry.sessionId, copy);
    return copy;
  }

  async accept(record: AcceptedSession): Promise<void> {
    this.check();
    if (!this.admitted.has(record.sessionId) && !this.entries.has(record.sessionId)) {
      this.admitted.set(record.sessionId, { ...record });
    }
  }

  async accepted(): Promise<AcceptedSession[]> {
    this.check();
    return [...this.admitted.values()].sort((a, b) => a.acceptedAt - b.acceptedAt);
  }

  async get(sessionId: string): Promise<OutboxEntry | undefined> {
    this.check();
    return this.entries.get(sessionId);
  }

  async del(sessionId: string): Promise<boolean> {
    this.check();
    return this.entries.delete(sessionId);
  }

  async *stream(): AsyncIterable<OutboxEntry> {
    this.check();
    const snapshot = [...this.entries.values()].sort((a, b) => a.seq - b.seq);
    for (const entry of snapshot) yield entry;
  }

  async size(): Promise<number> {
    this.check();
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

export class MemoryStateStore implements StateStore {
  private seq = 0;
  private readonly nonces = new Map<string, number>();
  private closed = false;

  async nextSeq(): Promise<number> {
    this.check();
    return ++this.seq;
  }

  async claimNonce(nonce: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    this.check();
    for (const [n, exp] of this.nonces) if (exp <= nowMs) this.nonces.delete(n);
    if (this.nonces.has(nonce)) return false;
    this.nonces.set(nonce, expiresAtMs);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new StoreClosedError();
  }
}
