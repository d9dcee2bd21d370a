import { RegtermError } from '../lib/errors.ts';
import type { DeviceIdentity } from './device-key.ts';
import { RESULT_TYP, signJson } from './jws.ts';
import { PROTOCOL_VERSION, resultDecisionSchema, type ResultDecision, type ResultPayload } from './protocol.ts';
import type { OutboxEntry, OutboxStore, StateStore } from './store.ts';

/**
 * Turns a decided result into a signed, durable outbox entry, and owns the accepted-session records that let a
 * restart answer the sessions a crash cut short.
 *
 * INVARIANTS:
 * - submit() resolves only after the signed entry is committed (the caller may then show the verdict).
 * - One signature per sessionId: submitting a session that is still in the outbox returns the stored entry
 *   unchanged, and a result whose commit failed (disk full) stays signed in memory: the retry commits those same
 *   bytes. So re-delivery is byte-identical and a result is never re-signed with a new seq.
 * - accept() records a session durably before it runs; the commit of its result removes the record atomically.
 *   recoverInterrupted() signs an `interrupted` result (decidedBy `restart`) for every record a previous run left
 *   behind, never for a session accepted by this process.
 * - Size policy: at `maxEntries` undelivered results the terminal refuses NEW sessions (`hasRoom()` is false; the link
 *   rejects requests with `outbox_full`); results of sessions already running are still accepted, up to a hard limit
 *   of maxEntries + SESSION_HEADROOM, so a decided result is never dropped to make room.
 */
export const SESSION_HEADROOM = 8;

export class OutboxFullError extends RegtermError {}

export interface ResultOutboxOptions {
  deviceId: string;
  identity: DeviceIdentity;
  store: OutboxStore;
  state: StateStore;
  agentVersion: string;
  modelsHash: string;
  maxEntries: number;
  now: () => number;
}

export class ResultOutbox {
  /** signed results whose commit failed, by sessionId: retried with the same bytes */
  private readonly uncommitted = new Map<string, Omit<OutboxEntry, 'createdAt'>>();
  /** sessions accepted by this process: never reported as interrupted */
  private readonly live = new Set<string>();
  private recovered = false;

  constructor(private readonly options: ResultOutboxOptions) {}

  get store(): OutboxStore {
    return this.options.store;
  }

  async hasRoom(): Promise<boolean> {
    return (await this.options.store.size()) < this.options.maxEntries;
  }

  async depth(): Promise<number> {
    return this.options.store.size();
  }

  /** Signs and commits a result; resolves once durable. */
  async submit(decision: ResultDecision): Promise<OutboxEntry> {
    const o = this.options;
    const existing = await o.store.get(decision.sessionId);
    if (existing) return existing;
    if ((await o.store.size()) >= o.maxEntries + SESSION_HEADROOM) {
      throw new OutboxFullError(`outbox holds ${o.maxEntries + SESSION_HEADROOM} undelivered results; refusing more`);
    }
    let signed = this.uncommitted.get(decision.sessionId);
    if (!signed) {
      const { seq, jws } = await this.sign(decision);
      signed = { sessionId: decision.sessionId, seq, jws };
      this.uncommitted.set(decision.sessionId, signed);
    }
    const entry = await o.store.put({ ...signed, createdAt: o.now() });
    this.uncommitted.delete(decision.sessionId);
    this.live.delete(decision.sessionId);
    return entry;
  }

  /** Records an admitted session durably; resolves once it is on disk (then the session may run). */
  async accept(sessionId: string, nonce: string): Promise<void> {
    await this.options.store.accept({ sessionId, nonce, acceptedAt: this.options.now() });
    this.live.add(sessionId);
  }

  /**
   * Commits an `interrupted` result for every session a previous run accepted and never decided. Runs its scan once
   * successfully (a later call is a no-op); throws while the store is unavailable, so the caller retries.
   */
  async recoverInterrupted(): Promise<OutboxEntry[]> {
    if (this.recovered) return [];
    const entries: OutboxEntry[] = [];
    for (const { sessionId, nonce, acceptedAt } of await this.options.store.accepted()) {
      if (this.live.has(sessionId)) continue;
      entries.push(await this.submit({
        sessionId, nonce, decision: 'interrupted', decidedBy: 'restart', scores: {}, thresholds: {}, challenges: [],
        startedAt: new Date(acceptedAt).toISOString(), finishedAt: new Date(this.options.now()).toISOString(),
      }));
    }
    this.recovered = true;
    return entries;
  }

  /** Signs without persisting (rejections of requests, which are answered once and not retried). */
  async sign(decision: ResultDecision): Promise<{ seq: number; jws: string; payload: ResultPayload }> {
    const o = this.options;
    const checked = resultDecisionSchema.parse(decision);
    const seq = await o.state.nextSeq();
    const payload: ResultPayload = {
      v: PROTOCOL_VERSION, deviceId: o.deviceId, ...checked, seq, models: o.modelsHash, agent: o.agentVersion,
    };
    const jws = await signJson(payload, o.identity.privateKey, o.identity.kid, RESULT_TYP);
    return { seq, jws, payload };
  }
}
