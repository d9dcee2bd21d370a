import { RegtermError } from '../errors.ts';
import type { DeviceIdentity } from '../device/identity.ts';
import { RESULT_TYP, signJson } from './jws.ts';
import { PROTOCOL_VERSION, resultDecisionSchema, type ResultDecision, type ResultPayload } from './protocol.ts';
import type { OutboxEntry, OutboxStore, StateStore } from './store.ts';

/**
 * Turns a decided result into a signed, durable outbox entry.
 *
 * INVARIANTS:
 * - submit() resolves only after the signed entry is committed (the caller may then show the verdict).
 * - One entry per sessionId: submitting a session that is still in the outbox returns the stored entry unchanged,
 *   so re-delivery is byte-identical and a result is never re-signed with a new seq.
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
    const { seq, jws } = await this.sign(decision);
    return o.store.put({ sessionId: decision.sessionId, seq, jws, createdAt: o.now() });
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
