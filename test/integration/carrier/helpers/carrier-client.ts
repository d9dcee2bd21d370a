import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactVerify } from 'jose';
import mqtt, { type MqttClient } from 'mqtt';
import type { ClientCert } from './pki.ts';

/**
 * The carrier stand-in: a plain mqtt.js client with the `carrier` certificate. It records every result it receives
 * (raw bytes, in order) and, when `autoAck`, acknowledges each on `session/<id>/ack` (except sessions starting
 * with `noAckPrefix`, to let a test fill an outbox). `ackDelayMs` acks late, so broker restarts catch results
 * published but not yet acknowledged; `shouldAck` plays a carrier backend that loses acks. Both force re-deliveries.
 */
export class CarrierClient {
  readonly results = new Map<string, string[]>();
  readonly messages: { topic: string; payload: string }[] = [];
  private readonly waiters = new Set<() => void>();
  client!: MqttClient;

  constructor(private readonly url: string, private readonly ca: string, private readonly cert: ClientCert,
    private readonly opts: { autoAck: boolean; protocolVersion?: 4 | 5; clientId?: string; noAckPrefix?: string; ackDelayMs?: number;
      shouldAck?: (sessionId: string, copies: number) => boolean } = { autoAck: true, noAckPrefix: 'noack-' }) {}

  async start(filter = 'regterm/v1/+/#'): Promise<void> {
    this.client = mqtt.connect(this.url, {
      clientId: this.opts.clientId ?? `carrier-${process.pid}-${Math.random().toString(16).slice(2)}`,
      protocolVersion: this.opts.protocolVersion ?? 5, clean: true, reconnectPeriod: 100, connectTimeout: 3000,
      ca: readFileSync(this.ca), cert: readFileSync(this.cert.cert), key: readFileSync(this.cert.key),
      rejectUnauthorized: true, resubscribe: true,
    });
    this.client.on('error', () => undefined);
    this.client.on('message', (topic, payload) => {
      const text = payload.toString();
      this.messages.push({ topic, payload: text });
      const m = /^regterm\/v1\/([^/]+)\/session\/([^/]+)\/result$/.exec(topic);
      if (m) {
        const list = this.results.get(m[2]!) ?? [];
        list.push(text);
        this.results.set(m[2]!, list);
        const wanted = this.opts.shouldAck?.(m[2]!, list.length) ?? true;
        if (wanted && this.opts.autoAck && !(this.opts.noAckPrefix && m[2]!.startsWith(this.opts.noAckPrefix))) {
          const ack = () => this.client.publish(`regterm/v1/${m[1]}/session/${m[2]}/ack`, '', { qos: 1 }, () => undefined);
          if (this.opts.ackDelayMs) setTimeout(ack, this.opts.ackDelayMs);
          else ack();
        }
      }
      for (const w of this.waiters) w();
    });
    // Subscribe on every (re)connect: the carrier session is clean, so the broker forgets it after a restart.
    this.client.on('connect', () => this.client.subscribe(filter, { qos: 1 }));
    await new Promise<void>((resolve, reject) => {
      this.client.once('connect', () => resolve());
      setTimeout(() => reject(new Error('carrier client did not connect')), 5000);
    });
    await new Promise((r) => setTimeout(r, 100));
  }

  /** Every payload received on `topic` so far (cleared retained messages skipped), each verified with `deviceKey`: an unverifiable one throws. */
  async verifiedJson(topic: string, deviceKey: KeyObject): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const m of this.messages.filter((x) => x.topic === topic && x.payload)) {
      const { payload } = await compactVerify(m.payload, deviceKey);
      out.push(JSON.parse(new TextDecoder().decode(payload)));
    }
    return out;
  }

  publish(topic: string, payload: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.client.publish(topic, payload, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
  }

  /** Resolves when `predicate` holds, re-checked on every message; rejects after timeoutMs. */
  async until(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${what}`)); }, timeoutMs);
      const poll = setInterval(check, 200);
      const cleanup = () => { clearTimeout(timer); clearInterval(poll); this.waiters.delete(check); };
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.client.end(true, {}, () => resolve()));
  }
}
