import { readFileSync } from 'node:fs';
import { format } from 'node:util';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../lib/logger.ts';
import { errorMessage } from '../lib/errors.ts';
import { Backoff } from '../lib/backoff.ts';
import { SYSTEM_CLOCK, type Timer } from '../lib/clock.ts';
import { KnockOffMonitor } from './knock-off.ts';
import type { ResultOutbox } from './outbox.ts';
import { Topics, assertPublishTopic, type RejectReason, type ResultDecision } from './protocol.ts';
import { RequestIntake, type SessionRequestListener } from './request-intake.ts';
import type { RequestValidator } from './request-validator.ts';
import type { OutboxEntry } from './store.ts';

export type { SessionRequestListener };

/**
 * CarrierLink: the terminal's only connection to the carrier (MQTT 5 by default, 3.1.1 selectable; the protocol uses
 * no 5-only feature). What the rest of the agent uses:
 *   start(signal) / stop()              connect in the background (`signal` cancels the start only: once started,
 *                                       the link runs until stop()); stop publishes `offline` and closes everything,
 *                                       waiting on the broker 2 s at most (a hung broker cannot hold it)
 *   onSessionRequest(listener)          validated, carrier-signed requests (the session engine subscribes)
 *   submitResult(decision)              signs, commits (fsync) and resolves once durable; delivery is in the background.
 *                                       Rejects (StateStorageError: disk full; OutboxFullError) when the result is
 *                                       NOT durable: the verdict must not be shown then; submitting the same
 *                                       decision again retries with the same signed bytes.
 *   publishProgress(sessionId, event)   QoS 0, dropped while offline (staff screens only)
 *   publishTelemetry(obj)               QoS 0, dropped while offline
 *   onCarrierMessage(topic, listener)   raw carrier messages on a command topic (config/desired, ...)
 *   publishRetained(topic, payload, delivered?)  retained QoS 1, kept until connected (config/reported, ...)
 *   publishOnce(topic, payload)         QoS 1 when connected (answers to carrier commands: trace/<sessionId>)
 *   reconnect(reason)                   ends the connection cleanly and connects again (a renewed certificate)
 *   health()                            connected, last broker activity, last ack, outbox depth, reconnects,
 *                                       knock-offs (drops right after CONNACK; knock-off.ts)
 *
 * INVARIANTS:
 * - Results are published only from the outbox and removed only on the carrier's `session/<id>/ack`; they are
 *   republished on every connect and every `resendAfterMs` until then. Re-delivery sends the stored bytes.
 * - Reconnects are ours, not mqtt.js's (reconnectPeriod 0): capped exponential backoff with full jitter on an
 *   injected timer, reset on CONNACK. Each attempt uses a fresh mqtt.js client with the same clientId and
 *   clean=false (session expiry set on MQTT 5), so the broker keeps our subscriptions.
 * - Subscriptions and publishes stay under `regterm/v1/<deviceId>/`; wildcard publishes throw.
 * - Every inbound request gets exactly one answer: a session start, or a signed `rejected` result with a reason, on
 *   the session's topic only when it is that session's one verdict (else on `_invalid`; docs/reliability.md).
 *   Admission (validation, outbox room, busy) is RequestIntake's job; see request-intake.ts.
 */
export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** expected server name when it differs from the URL host */
  servername?: string;
}

/**
 * Where the client certificate and key come from when they can change at run time (certificate renewal,
 * src/device/tls/credentials.ts): asked before every connection attempt and told how that attempt went.
 */
export interface ClientCredentials {
  next(): { name: string; cert: Buffer; key: Buffer };
  connected(name: string): void;
  /**
   * The attempt closed before the broker accepted it; `reachedBroker`: a connection was open (TCP), so the broker, not
   * the network, refused it (a broker that is down or unreachable refuses every pair alike).
   */
  failed(name: string, reachedBroker: boolean): void;
}

export interface CarrierLinkOptions {
  deviceId: string;
  url: string;
  protocolVersion: 4 | 5;
  tls?: TlsFiles;
  /** with `tls`: the client pair for each attempt instead of `tls.certFile` / `tls.keyFile` */
  credentials?: ClientCredentials;
  /** default: the deviceId, which is the certificate CN; a broker that binds client ids to certificates assigns it */
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
  /** why the terminal cannot serve a session now (request-intake.ts) */
  unavailable?: () => RejectReason | undefined;
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
  /** connections the broker dropped right after accepting them (knock-off.ts), since start */
  knockOffs: number;
  /**
   * The reconnect loop is alive: connected, a reconnect is scheduled, or an attempt is under way and not overdue.
   * A broker that cannot be reached is not a reason to restart the agent; a loop that stopped trying is.
   */
  loopAlive: boolean;
}

/** Why the terminal is degraded (the retained status), e.g. `camera_unavailable`; empty = online. */
export type StatusReasons = readonly string[];

/** How long stop() waits for the broker: the `offline` status ack, then a graceful end. */
const END_GRACE_MS = 1000;

export class CarrierLink {
  readonly topics: Topics;
  private readonly log: Logger;
  private readonly timer: Timer;
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly intake: RequestIntake;
  private readonly knockOff: KnockOffMonitor;
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
  private readonly carrierListeners = new Map<string, Set<(payload: Buffer) => void>>();
  /** retained device messages not yet published (published on the next connect; a newer one replaces an older one) */
  private readonly pendingRetained = new Map<string, { payload: string; delivered?: () => void }>();
  private statusReasons: string[] = [];
  /** when the last connection attempt started (the reconnect loop's heartbeat) */
  private attemptAt = 0;
  /** the credentials' pair name each client's attempt used */
  private readonly attemptPair = new WeakMap<MqttClient, string>();
  /** clients whose TCP connection was open */
  private readonly reachedBroker = new WeakSet<MqttClient>();
  /** the client reconnect() is ending: its close is ours, not a drop */
  private ending?: MqttClient;

  constructor(private readonly options: CarrierLinkOptions) {
    this.topics = new Topics(options.deviceId);
    this.log = options.logger.child({ component: 'carrier-link' });
    this.timer = options.timer ?? SYSTEM_CLOCK;
    this.now = options.now ?? Date.now;
    this.backoff = new Backoff({ ...options.backoff, random: options.random });
    this.knockOff = new KnockOffMonitor();
    this.intake = new RequestIntake({
      validator: options.validator, outbox: options.outbox, isBusy: options.isBusy, unavailable: options.unavailable, logger: this.log, now: this.now,
      publishRejection: (sessionId, jws) => this.publishRejection(sessionId, jws),
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) {
      this.stopping = true;
      return;
    }
    await this.recoverInterrupted();
    if (signal.aborted) return;
    this.connectOnce();
    this.scheduleResend();
  }

  /**
   * Publishes `offline` (retained) when connected, then releases the client and every timer. Idempotent: every call
   * resolves when the one real stop has finished.
   */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectHandle !== undefined) this.timer.clearTimeout(this.reconnectHandle);
    if (this.resendHandle !== undefined) this.timer.clearTimeout(this.resendHandle);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    const answering = this.connected && await this.publish(client, this.topics.status, this.statusPayload('offline'),
      { qos: 1, retain: true }, END_GRACE_MS).then(() => true, () => false);
    this.connected = false;
    // mqtt.js ends gracefully only once every QoS 1 publish is acknowledged, and keeps unacknowledged ones when the
    // connection drops (clean=false): a broker that stopped answering, or a session taken over while we end, would
    // hold stop() forever. So: forced unless the broker just acknowledged `offline`, the socket closed after a grace
    // period, and a closed socket counts as ended.
    await new Promise<void>((resolve) => {
      const done = () => {
        this.timer.clearTimeout(grace);
        resolve();
      };
      const grace = this.timer.setTimeout(() => client.stream.destroy(), END_GRACE_MS);
      client.once('close', done);
      client.end(!answering, {}, done);
    });
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

  /**
   * Raw payloads the carrier publishes on `topic` (under the own prefix, no wildcard): subscribed on every connect.
   * Listeners check what they get themselves (carrier-jws.ts); a throwing listener is logged.
   */
  onCarrierMessage(topic: string, listener: (payload: Buffer) => void): () => void {
    assertPublishTopic(topic, this.topics.prefix);
    let listeners = this.carrierListeners.get(topic);
    if (!listeners) {
      listeners = new Set();
      this.carrierListeners.set(topic, listeners);
      if (this.client && this.connected) this.subscribe(this.client, [topic]);
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * A retained device message (QoS 1), published now or on the next connect; the latest one per topic wins.
   * `delivered` runs once the broker acknowledged this payload (never for one replaced before it was sent).
   */
  publishRetained(topic: string, payload: string, delivered?: () => void): void {
    assertPublishTopic(topic, this.topics.prefix);
    this.pendingRetained.set(topic, { payload, delivered });
    if (this.client && this.connected) this.flushRetained(this.client);
  }

  /** A device message (QoS 1, not retained) under the own prefix; false when not connected (the carrier asks again). */
  publishOnce(topic: string, payload: string): boolean {
    const client = this.client;
    if (!client || !this.connected) return false;
    this.publish(client, topic, payload, { qos: 1 }).catch(() => undefined);
    return true;
  }

  /**
   * Ends the connection cleanly (DISCONNECT: no `offline` will) and connects again through the usual reconnect path,
   * so the next attempt asks the credentials again. Nothing to do while not connected: the next attempt does it.
   */
  reconnect(reason: string): void {
    const client = this.client;
    if (!client || !this.connected || this.stopping) return;
    this.log.info({ reason }, 'reconnecting');
    this.ending = client;
    const grace = this.timer.setTimeout(() => client.stream.destroy(), END_GRACE_MS);
    client.end(false, {}, () => this.timer.clearTimeout(grace));
  }

  publishProgress(sessionId: string, event: object): boolean {
    return this.publishVolatile(this.topics.progress(sessionId), event);
  }

  publishTelemetry(telemetry: object): boolean {
    return this.publishVolatile(this.topics.telemetry, telemetry);
  }

  health(): LinkHealth {
    const attempting = this.client !== undefined && this.now() - this.attemptAt < 2 * this.options.connectTimeoutMs;
    return {
      connected: this.connected, lastActivityAt: this.lastActivityAt, lastAckAt: this.lastAckAt,
      outboxDepth: this.depth, reconnects: this.reconnects, knockOffs: this.knockOff.count,
      loopAlive: this.stopping || this.connected || this.reconnectHandle !== undefined || attempting,
    };
  }

  /**
   * The terminal's condition for the retained status: `online` without reasons, `degraded` with them (`offline` is
   * the will and the stop). Republished whenever the reasons change, and on every connect.
   */
  setStatusReasons(reasons: StatusReasons): void {
    if (reasons.join(',') === this.statusReasons.join(',')) return;
    this.statusReasons = [...reasons];
    const client = this.client;
    if (client && this.connected) {
      this.publish(client, this.topics.status, this.statusPayload('online'), { qos: 1, retain: true }).catch(() => undefined);
    }
  }

  private connectOnce(): void {
    if (this.stopping) return;
    this.attemptAt = this.now();
    const o = this.options;
    const pair = o.tls && o.credentials?.next();
    const client = mqtt.connect(o.url, this.clientOptions(pair || undefined));
    this.client = client;
    if (pair) {
      this.attemptPair.set(client, pair.name);
      client.stream.once('connect', () => this.reachedBroker.add(client));
    }
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('packetreceive', () => { this.lastActivityAt = this.now(); });
    client.on('disconnect', (packet) => {
      if (client === this.client) this.knockOff.disconnectReason(packet.reasonCode);
    });
    client.on('error', (e: unknown) => this.log.warn({ err: errorMessage(e) }, 'mqtt error'));
    client.on('close', () => this.onClose(client));
  }

  private get clientId(): string {
    return this.options.clientId ?? this.options.deviceId;
  }

  private clientOptions(pair?: { cert: Buffer; key: Buffer }): IClientOptions {
    const o = this.options;
    const base: IClientOptions = {
      clientId: this.clientId,
      protocolVersion: o.protocolVersion,
      clean: false,
      keepalive: o.keepaliveS,
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: this.topics.status, payload: Buffer.from(this.statusPayload('offline')), qos: 1, retain: true },
      log: (...args: unknown[]) => {
        if (this.log.isLevelEnabled('trace')) this.log.trace({ mqtt: mqttTraceLine(args) }, 'mqtt.js');
      },
    };
    if (o.protocolVersion === 5) {
      base.properties = { sessionExpiryInterval: o.sessionExpiryS, maximumPacketSize: o.maxPacketBytes };
    }
    if (o.tls) {
      Object.assign(base, {
        ca: readFileSync(o.tls.caFile), cert: pair?.cert ?? readFileSync(o.tls.certFile), key: pair?.key ?? readFileSync(o.tls.keyFile),
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
    this.knockOff.connected(this.lastActivityAt);
    const pair = this.attemptPair.get(client);
    this.log.info({ clientId: client.options.clientId, ...(pair ? { certificate: pair } : {}) }, 'connected');
    if (pair) this.options.credentials?.connected(pair);
    this.subscribe(client, [this.topics.request, this.topics.ackFilter, ...this.carrierListeners.keys()]);
    this.publish(client, this.topics.status, this.statusPayload('online'), { qos: 1, retain: true })
      .catch(() => undefined);
    this.flushRetained(client);
    void this.drain(client);
  }

  private subscribe(client: MqttClient, topics: string[]): void {
    client.subscribe(topics, { qos: 1 }, (e: unknown) => {
      // a command published before the broker took the subscription is lost (commands are not retained): say when it has
      if (e) this.log.warn({ err: errorMessage(e), topics }, 'subscribe failed');
      else this.log.info({ topics }, 'subscribed');
    });
  }

  private flushRetained(client: MqttClient): void {
    for (const [topic, entry] of this.pendingRetained) {
      this.publish(client, topic, entry.payload, { qos: 1, retain: true }).then(() => {
        if (this.pendingRetained.get(topic) === entry) this.pendingRetained.delete(topic);
        entry.delivered?.();
      }, () => undefined);
    }
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    if (client === this.ending) {
      this.ending = undefined;
      this.log.info('disconnected to reconnect');
    } else if (this.connected) {
      this.onDrop();
    } else if (this.attemptPair.has(client)) {
      this.options.credentials?.failed(this.attemptPair.get(client)!, this.reachedBroker.has(client));
    }
    this.connected = false;
    this.client = undefined;
    client.removeAllListeners('close');
    client.end(true);
    if (this.stopping) return;
    const delay = this.backoff.next();
    this.reconnects++;
    this.log.info({ delayMs: delay, attempt: this.backoff.attempts }, 'reconnect scheduled');
    this.reconnectHandle = this.timer.setTimeout(() => {
      this.reconnectHandle = undefined;
      this.connectOnce();
    }, delay);
  }

  private onDrop(): void {
    this.log.warn('disconnected');
    const knockOff = this.knockOff.closed(this.now());
    if (knockOff) {
      this.log.warn({ ...knockOff, clientId: this.clientId },
        'the broker keeps dropping the connection right after accepting it: another client may be using this terminal\'s client id');
    }
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
    this.resendHandle = this.timer.setTimeout(() => {
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
    const listeners = this.carrierListeners.get(topic);
    if (listeners) {
      for (const listener of listeners) {
        try {
          listener(payload);
        } catch (e: unknown) {
          this.log.error({ err: errorMessage(e), topic }, 'carrier message listener threw');
        }
      }
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
        : this.timer.setTimeout(() => reject(new Error(`publish to ${topic} timed out`)), timeoutMs);
      client.publish(topic, payload, opts, (e?: unknown) => {
        if (handle !== undefined) this.timer.clearTimeout(handle);
        if (e) reject(e instanceof Error ? e : new Error(String(e)));
        else resolve();
      });
    });
  }

  private statusPayload(connected: 'online' | 'offline'): string {
    const o = this.options;
    const state = connected === 'online' && this.statusReasons.length > 0 ? 'degraded' : connected;
    return JSON.stringify({ state, ...(state === 'degraded' ? { reasons: this.statusReasons } : {}), deviceId: o.deviceId,
      version: o.version, models: o.modelsHash, at: new Date(this.now()).toISOString(),
      ...(connected === 'online' && o.inventory ? { inventory: o.inventory } : {}) });
  }
}

/**
 * mqtt.js traces whole packets (`%o`) and outgoing messages (`publish :: message \`%s\``); a session request's
 * payload carries the reference photo, which must never be logged (DESIGN.md §6), and no message body belongs in a
 * log, so payloads are traced by size only (test/integration/agent/run.spec.ts scans a trace-level log for them).
 */
function mqttTraceLine(args: unknown[]): string {
  const [fmt, ...rest] = args;
  if (typeof fmt === 'string' && fmt.startsWith('publish :: message')) {
    return format(fmt, `[${byteSize(rest[0])} bytes]`, ...rest.slice(1));
  }
  return format(...args.map(withoutPayload));
}

function withoutPayload(arg: unknown): unknown {
  if (typeof arg !== 'object' || arg === null || !('payload' in arg)) return arg;
  return { ...arg, payload: `[${byteSize((arg as { payload?: unknown }).payload)} bytes]` };
}

function byteSize(payload: unknown): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload instanceof Uint8Array ? payload.length : 0;
}
