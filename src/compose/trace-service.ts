import type { KeyObject } from 'node:crypto';
import type { Component } from '../lib/agent.ts';
import { verifyCarrierJws } from '../carrier/carrier-jws.ts';
import { PROTOCOL_VERSION, traceRequestSchema, type Topics } from '../carrier/protocol.ts';
import type { Logger } from '../lib/logger.ts';
import { untrustedText } from '../lib/untrusted-text.ts';
import { errorMessage } from '../lib/errors.ts';
import type { TraceStore } from '../session/trace-store.ts';
import type { SessionTrace } from '../session/trace.ts';

/**
 * Answers the carrier's signed trace requests (`trace/request`: `{ v, deviceId, sessionId, issuedAt }`) with the
 * kept numeric trace of that session, device-signed, on `trace/<sessionId>`: `{ v, deviceId, sessionId, found,
 * trace? }`. A request that does not verify with a trusted carrier key, or is for another device, is logged and not
 * answered (nothing is revealed to whoever sent it). A trace holds numbers only (session/trace.ts).
 */
export interface TraceAnswer {
  v: typeof PROTOCOL_VERSION;
  deviceId: string;
  sessionId: string;
  found: boolean;
  trace?: SessionTrace;
}

export interface TraceServiceOptions {
  deviceId: string;
  store: Pick<TraceStore, 'load'> | undefined;
  link: {
    readonly topics: Topics;
    onCarrierMessage(topic: string, listener: (payload: Buffer) => void): () => void;
    publishOnce(topic: string, payload: string): boolean;
  };
  carrierKeys: () => ReadonlyMap<string, KeyObject>;
  sign: (answer: TraceAnswer) => Promise<string>;
  logger: Logger;
}

export class TraceService implements Component {
  readonly name = 'traces';
  private readonly log: Logger;
  private unsubscribe?: () => void;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: TraceServiceOptions) {
    this.log = o.logger.child({ component: 'traces' });
  }

  async start(): Promise<void> {
    this.unsubscribe = this.o.link.onCarrierMessage(this.o.link.topics.traceRequest, (payload) => {
      this.queue = this.queue.then(() => this.answer(payload)).catch((e: unknown) => {
        this.log.error({ err: errorMessage(e) }, 'trace request handling failed');
      });
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue;
  }

  private async answer(payload: Buffer): Promise<void> {
    const signed = await verifyCarrierJws(payload, { carrierKeys: this.o.carrierKeys(), maxBytes: 4096 });
    if (!signed.ok) return this.log.warn({ reason: signed.reason, detail: signed.detail }, 'trace request refused');
    const parsed = traceRequestSchema.safeParse(signed.json);
    if (!parsed.success) return this.log.warn({ detail: untrustedText(parsed.error.issues[0]?.message) }, 'trace request refused');
    const { sessionId, deviceId } = parsed.data;
    if (deviceId !== this.o.deviceId) return this.log.warn({ deviceId: untrustedText(deviceId) }, 'trace request for another device');
    const trace = this.o.store?.load(sessionId);
    const answer: TraceAnswer = { v: PROTOCOL_VERSION, deviceId, sessionId, found: trace !== undefined, ...(trace ? { trace } : {}) };
    const sent = this.o.link.publishOnce(this.o.link.topics.trace(sessionId), await this.o.sign(answer));
    this.log.info({ sessionId, found: answer.found, sent }, 'trace request answered');
  }
}
