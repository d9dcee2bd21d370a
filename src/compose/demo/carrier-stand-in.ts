import type { KeyObject } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { buildSessionRequest, signSessionRequest } from '../../carrier/carrier-side.ts';
import { verifyResult } from '../../carrier/jws.ts';
import { Topics, type ResultPayload, type SessionRequest } from '../../carrier/protocol.ts';
import { errorMessage } from '../../lib/errors.ts';

/**
 * The carrier's side of the demo, in-process: signs a session request, prints progress as staff screens would see
 * it, receives the device's signed result, verifies it against the device public key and acknowledges it (only a
 * verified result is acknowledged, so a bad one would stay in the terminal's outbox).
 */
export interface CarrierView {
  decision: string;
  verified: boolean;
  jws: string;
  payload: ResultPayload | null;
  /** why verification failed */
  error?: string;
}

export interface CarrierStandInOptions {
  url: string;
  protocolVersion: 4 | 5;
  deviceId: string;
  carrierKey: KeyObject;
  carrierKid: string;
  devicePublicKey: KeyObject;
  onProgress?: (sessionId: string, event: Record<string, unknown>) => void;
}

export class CarrierStandIn {
  private readonly topics: Topics;
  private client?: MqttClient;
  private readonly waiting = new Map<string, (view: CarrierView) => void>();

  constructor(private readonly options: CarrierStandInOptions) {
    this.topics = new Topics(options.deviceId);
  }

  /**
   * The stand-in keeps its broker session (clean: false) and reconnects, as a carrier's backend does: a link dropped
   * while the agent analyses (a stalled event loop misses keepalives, e.g. under CPU emulation) loses no result, the
   * broker queues it for the subscription.
   */
  async start(): Promise<void> {
    const client = mqtt.connect(this.options.url, {
      clientId: 'demo-carrier', protocolVersion: this.options.protocolVersion, clean: false, reconnectPeriod: 1000, connectTimeout: 5000,
    });
    this.client = client;
    client.on('message', (topic, payload) => { this.onMessage(topic, payload.toString()); });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('error', () => undefined); // after the first connect, an error only precedes a reconnect
    await client.subscribeAsync(`${this.topics.prefix}/#`, { qos: 1 });
  }

  /** Signs and publishes a request; resolves with the carrier's view of the verified (or not) result. */
  async requestSession(reference: Uint8Array, policy: SessionRequest['policy'], ttlS = 300): Promise<CarrierView> {
    const client = this.connected();
    const request = buildSessionRequest({ deviceId: this.options.deviceId, reference: { format: 'jpeg', data: reference }, ttlS, policy });
    const jws = await signSessionRequest(request, this.options.carrierKey, this.options.carrierKid);
    const result = new Promise<CarrierView>((resolve) => this.waiting.set(request.sessionId, resolve));
    await client.publishAsync(this.topics.request, jws, { qos: 1 });
    return result;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true);
  }

  private onMessage(topic: string, text: string): void {
    const parts = topic.slice(this.topics.prefix.length + 1).split('/');
    if (parts[0] !== 'session' || parts.length !== 3) return;
    const [, sessionId, kind] = parts as [string, string, string];
    if (kind === 'progress') {
      try {
        this.options.onProgress?.(sessionId, JSON.parse(text) as Record<string, unknown>);
      } catch {
        // progress is best-effort display; a malformed one is skipped
      }
      return;
    }
    if (kind !== 'result') return;
    const resolve = this.waiting.get(sessionId);
    if (!resolve) return;
    this.waiting.delete(sessionId);
    void this.verify(sessionId, text).then(resolve);
  }

  private async verify(sessionId: string, jws: string): Promise<CarrierView> {
    let payload: ResultPayload;
    try {
      ({ payload } = await verifyResult(jws, this.options.devicePublicKey));
    } catch (e: unknown) {
      return { decision: 'unverified', verified: false, jws, payload: null, error: errorMessage(e) };
    }
    try {
      await this.connected().publishAsync(this.topics.ack(sessionId), '', { qos: 1 });
      return { decision: payload.decision, verified: true, jws, payload };
    } catch (e: unknown) {
      return { decision: payload.decision, verified: true, jws, payload, error: `ack failed: ${errorMessage(e)}` };
    }
  }

  private connected(): MqttClient {
    if (!this.client) throw new Error('carrier stand-in not started');
    return this.client;
  }
}
