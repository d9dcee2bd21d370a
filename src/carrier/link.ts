import { readFileSync } from 'node:fs';
import { format } from 'node:util';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../device/logger.ts';
import { errorMessage } from '../errors.ts';
import { Backoff, REAL_TIMER, type Timer } from './backoff.ts';
import type { ResultOutbox } from './outbox.ts';
import { Topics, assertPublishTopic, type ResultDecision } from './protocol.ts';
import { RequestIntake, type SessionRequestListener } from './request-intake.ts';
import type { RequestValidator } from './request-validator.ts';
import type { OutboxEntry } from './store.ts';

export type { SessionRequestListener };

/**
 * CarrierLink: the terminal's only connection to the carrier (MQTT 5 by default, 3.1.1 selectable; the protocol uses
 * no 5-only feature). What the rest of the agent uses:
 *   start(signal) / stop()              connect in the background; stop publishes `offline` and closes everything
 *   onSessionRequest(listener)          validated, carrier-signed requests (the session engine subscribes)
 *   submitResult(decision)              signs, commits (fsync) and resolves once durable; delivery is in the background.
 *                                       Rejects (StateStorageError: disk full; OutboxFullError) when the result is
 *                                       NOT durable: the verdict must not be shown then; submitting the same
 *                                       decision again retries with the same signed bytes.
 *   publishProgress(sessionId, event)   QoS 0, dropped while offline (staff screens only)
 *   publishTelemetry(obj)               QoS 0, dropped while offline
 *   health()                            connected, last broker activity, last ack, outbox depth, reconnects
 *
 * INVARIANTS:
 * - Results are published only from the outbox and removed only on the carrier's `session/<id>/ack`; they are
 *   republished on every connect and every `resendAfterMs` until then. Re-delivery sends the stored bytes.
 * - Reconnects are ours, not mqtt.js's (reconnectPeriod 0): capped exponential backoff with full jitter on an
 *   injected timer, reset on CONNACK. Each attempt uses a fresh mqtt.js client with the same clientId and
 *   clean=false (session expiry set on MQTT 5), so the broker keeps our subscriptions.
 * - Subscriptions and publishes stay under `regterm/v1/<deviceId>/`; wildcard publishes throw.
 * - Every inbound request gets exactly one answer: a session start, or a signed `rejected` result with a reason.
 *   Admission (validation, outbox room, busy) is RequestIntake's job; see request-intake.ts.
 */
export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** expected server name when it differs from the URL host */
  servername?: string;
}

export interface CarrierLinkOptions {
  deviceId: string;
  url: string;
  protocolVersion: 4 | 5;
  tls?: TlsFiles;
  clientId?: string;
  keepaliveS: number;
  sessionExpiryS: number;
  connectTimeoutMs: number;
  backoff: { initialMs: number; maxMs: number };
  resendAfterMs: number;
  /**
   * MQTT 5 CONNECT maximumPacketSize: the broker discards (never sends us) larger packets, so a huge publish cannot
   * make mqtt.js buffer it. Set above the request size limit so a moderately oversized request still gets its
   * `too_large` answer. Not available in MQTT 3.1.1 (cap the size on the broker: `message_size_limit`).
   */
  maxPacketBytes?: number;
  /** status payload fields published retained on every connect */
  version: string;
  modelsHash: string;
  /** static inventory (telemetry.ts `inventory()`), part of every retained `online` status */
  inventory?: object;
  validator: RequestValidator;
  outbox: ResultOutbox;
  /** the session engine's answer to "can a session start now?" */
  isBusy?: () => boolean;
  logger: Logger;
  timer?: Timer;
  random?: () => number;
  now?: () => number;
}

export interface LinkHealth {
  connected: boolean;
  lastActivityAt?: number;
  lastAckAt?: number;
  outboxDepth: number;
  reconnects: number;
}


export class CarrierLink {
  readonly topics: Topics;
  private readonly log: Logger;
  private readonly timer: Timer;
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly intake: RequestIntake;
  private readonly sentAt = new Map<string, number>();
  private client?: MqttClient;
  private connected = false;
  private stopping = false;
  private stopped?: Promise<void>;
  private reconnectHandle?: unknown;
  private resendHandle?: unknown;
  private depth = 0;
  private reconnects = 0;
  private lastActivityAt?: number;
  private lastAckAt?: number;
  private abortListener?: () => void;
  private signal?: AbortSignal;

  constructor(private readonly options: CarrierLinkOptions) {
    this.topics = new Topics(options.deviceId);
    this.log = options.logger.child({ component: 'carrier-link' });
    this.timer = options.timer ?? REAL_TIMER;
    this.now = options.now ?? Date.now;
    this.backoff = new Backoff({ ...options.backoff, random: options.random });
    this.intake = new RequestIntake({
      validator: options.validator, outbox: options.outbox, isBusy: options.isBusy, logger: this.log, now: this.now,
      publishRejection: (sessionId, jws) => this.publishRejection(sessionId, jws),
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) {
      this.stopping = true;
      return;
    }
    this.signal = signal;
    this.abortListener = () => void this.stop();
    signal.addEventListener('abort', this.abortListener, { once: true });
    await this.recoverInterrupted();
    this.connectOnce();
    this.scheduleResend();
  }

  /**
   * Publishes `offline` (retained) when connected, then releases the client and every timer. Idempotent: every call
   * (abort signal, agent shutdown) resolves when the one real stop has finished.
   */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    if (this.abortListener) this.signal?.removeEventListener('abort', this.abortListener);
    if (this.reconnectHandle !== undefined) this.timer.clear(this.reconnectHandle);
    if (this.resendHandle !== undefined) this.timer.clear(this.resendHandle);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.connected) {
      await this.publish(client, this.topics.status, this.statusPayload('offline'), { qos: 1, retain: true }, 1000)
        .catch(() => undefined);
    }
    this.connected = false;
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    this.log.info('link stopped');
  }

  onSessionRequest(listener: SessionRequestListener): () => void {
    return this.intake.onSessionRequest(listener);
  }

  /** Signs and commits the result; resolves once durable. Publishing happens in the background until acked. */
  async submitResult(decision: ResultDecision): Promise<OutboxEntry> {
    const entry = await this.options.outbox.submit(decision);
    this.depth = await this.options.outbox.depth();
    this.log.info({ sessionId: entry.sessionId, seq: entry.seq, decision: decision.decision, outboxDepth: this.depth },
      'result committed');
    if (this.client && this.connected) this.publishEntry(this.client, entry);
    return entry;
  }

  publishProgress(sessionId: string, event: object): boolean {
    return this.publishVolatile(this.topics.progress(sessionId), event);
  }

  publishTelemetry(telemetry: object): boolean {
    return this.publishVolatile(this.topics.telemetry, telemetry);
  }

  health(): LinkHealth {
    return {
      connected: this.connected, lastActivityAt: this.lastActivityAt, lastAckAt: this.lastAckAt,
      outboxDepth: this.depth, reconnects: this.reconnects,
    };
  }

  private connectOnce(): void {
    if (this.stopping) return;
    const o = this.options;
    const client = mqtt.connect(o.url, this.clientOptions());
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('packetreceive', () => { this.lastActivityAt = this.now(); });
    client.on('error', (e: unknown) => this.log.warn({ err: errorMessage(e) }, 'mqtt error'));
    client.on('close', () => this.onClose(client));
  }

  private clientOptions(): IClientOptions {
    const o = this.options;
    const base: IClientOptions = {
      clientId: o.clientId ?? `regterm-${o.deviceId}`,
      protocolVersion: o.protocolVersion,
      clean: false,
      keepalive: o.keepaliveS,
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: this.topics.status, payload: Buffer.from(this.statusPayload('offline')), qos: 1, retain: true },
      log: (...args: unknown[]) => {
        if (this.log.isLevelEnabled('trace')) this.log.trace({ mqtt: format(...args.map(withoutPayload)) }, 'mqtt.js');
      },
    };
    if (o.protocolVersion === 5) {
      base.properties = { sessionExpiryInterval: o.sessionExpiryS, maximumPacketSize: o.maxPacketBytes };
    }
    if (o.tls) {
      Object.assign(base, {
        ca: readFileSync(o.tls.caFile), cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile),
        rejectUnauthorized: true, servername: o.tls.servername,
      });
    }
    return base;
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return;
    this.connected = true;
    this.backoff.reset();
    this.sentAt.clear();
    this.lastActivityAt = this.now();
    this.log.info({ clientId: client.options.clientId }, 'connected');
    client.subscribe([this.topics.request, this.topics.ackFilter], { qos: 1 }, (e: unknown) => {
      if (e) this.log.warn({ err: errorMessage(e) }, 'subscribe failed');
    });
    this.publish(client, this.topics.status, this.statusPayload('online'), { qos: 1, retain: true })
      .catch(() => undefined);
    void this.drain(client);
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    if (this.connected) this.log.warn('disconnected');
    this.connected = false;
    this.client = undefined;
    client.removeAllListeners('close');
    client.end(true);
    if (this.stopping) return;
    const delay = this.backoff.next();
    this.reconnects++;
    this.log.info({ delayMs: delay, attempt: this.backoff.attempts }, 'reconnect scheduled');
    this.reconnectHandle = this.timer.set(() => {
      this.reconnectHandle = undefined;
      this.connectOnce();
    }, delay);
  }

  private async drain(client: MqttClient): Promise<void> {
    try {
      for await (const entry of this.options.outbox.store.stream()) {
        if (client !== this.client || !this.connected) return;
        this.publishEntry(client, entry);
      }
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e) }, 'outbox drain failed');
    }
  }

  private publishEntry(client: MqttClient, entry: OutboxEntry): void {
    this.sentAt.set(entry.sessionId, this.now());
    this.publish(client, this.topics.result(entry.sessionId), entry.jws, { qos: 1 }).catch(() => undefined);
  }

  /** Republishes results not acked within resendAfterMs (the carrier may have been offline when we sent them). */
  private scheduleResend(): void {
    if (this.stopping) return;
    this.resendHandle = this.timer.set(() => {
      void this.resendStale().finally(() => this.scheduleResend());
    }, this.options.resendAfterMs);
  }

  /**
   * Before the first connect (and on every resend tick until it succeeded, if the state was unavailable at start):
   * the sessions a previous run accepted and never decided get their signed `interrupted` result.
   */
  private async recoverInterrupted(): Promise<void> {
    try {
      for (const entry of await this.options.outbox.recoverInterrupted()) {
        this.log.warn({ sessionId: entry.sessionId, seq: entry.seq }, 'session interrupted by a restart; result committed');
      }
      this.depth = await this.options.outbox.depth();
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e) }, 'interrupted sessions not recovered yet; retrying');
    }
  }

  private async resendStale(): Promise<void> {
    await this.recoverInterrupted();
    const client = this.client;
    if (!client || !this.connected) return;
    const cutoff = this.now() - this.options.resendAfterMs;
    try {
      for await (const entry of this.options.outbox.store.stream()) {
        if ((this.sentAt.get(entry.sessionId) ?? 0) <= cutoff && client === this.client) this.publishEntry(client, entry);
      }
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e) }, 'outbox resend failed');
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === this.topics.request) {
      this.intake.enqueue(payload);
      return;
    }
    const sessionId = this.topics.parseAck(topic);
    if (sessionId) void this.handleAck(sessionId);
  }

  private async handleAck(sessionId: string): Promise<void> {
    try {
      const removed = await this.options.outbox.store.del(sessionId);
      this.sentAt.delete(sessionId);
      this.lastAckAt = this.now();
      if (removed) {
        this.depth = await this.options.outbox.depth();
        this.log.info({ sessionId, outboxDepth: this.depth }, 'result acknowledged');
      }
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e), sessionId }, 'ack handling failed');
    }
  }

  /** QoS 1 when connected; requests only arrive while connected, so this normally publishes. */
  private async publishRejection(sessionId: string, jws: string): Promise<void> {
    const client = this.client;
    if (client && this.connected) await this.publish(client, this.topics.result(sessionId), jws, { qos: 1 }).catch(() => undefined);
  }

  private publishVolatile(topic: string, value: object): boolean {
    const client = this.client;
    if (!client || !this.connected) return false;
    this.publish(client, topic, JSON.stringify(value), { qos: 0 }).catch(() => undefined);
    return true;
  }

  /** Rejects when the publish fails or (with timeoutMs) takes too long; never publishes outside the own prefix. */
  private publish(client: MqttClient, topic: string, payload: string, opts: IClientPublishOptions, timeoutMs?: number): Promise<void> {
    assertPublishTopic(topic, this.topics.prefix);
    return new Promise<void>((resolve, reject) => {
      const handle = timeoutMs === undefined ? undefined
        : this.timer.set(() => reject(new Error(`publish to ${topic} timed out`)), timeoutMs);
      client.publish(topic, payload, opts, (e?: unknown) => {
        if (handle !== undefined) this.timer.clear(handle);
        if (e) reject(e instanceof Error ? e : new Error(String(e)));
        else resolve();
      });
    });
  }

  private statusPayload(state: 'online' | 'offline'): string {
    const o = this.options;
    return JSON.stringify({ state, deviceId: o.deviceId, version: o.version, models: o.modelsHash,
      at: new Date(this.now()).toISOString(), ...(state === 'online' && o.inventory ? { inventory: o.inventory } : {}) });
  }
}

/**
 * mqtt.js traces whole packets (`%o`); a session request's payload carries the reference photo, which must never be
 * logged (DESIGN.md §6), so packet payloads are traced by size only (test/integration/agent/run.spec.ts scans a
 * trace-level log for it).
 */
function withoutPayload(arg: unknown): unknown {
  if (typeof arg !== 'object' || arg === null || !('payload' in arg)) return arg;
  const payload = (arg as { payload?: unknown }).payload;
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload instanceof Uint8Array ? payload.length : 0;
  return { ...arg, payload: `[${bytes} bytes]` };
}
