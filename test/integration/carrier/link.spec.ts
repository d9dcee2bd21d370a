import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { readPublicKey } from '../../../src/carrier/keys.ts';
import { openCarrier, type OpenCarrier } from '../../../src/carrier/open.ts';
import { INVALID_SESSION, type SessionRequest } from '../../../src/carrier/protocol.ts';
import type { OutboxEntry } from '../../../src/carrier/store.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { REFERENCE, decision, testKeys } from '../../unit/carrier/helpers.ts';
import { deviceConfig } from './helpers/device.ts';
import { LogSink } from '../../unit/carrier/helpers.ts';
import { freePort } from './helpers/mosquitto.ts';
import { createPki } from './helpers/pki.ts';
import { useBrokerRig } from './helpers/broker-rig.ts';

const carrierKeys = await testKeys();
const rig = useBrokerRig({ name: 'link' });
const open: OpenCarrier[] = [];

afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function device(deviceId: string, over: Parameters<typeof deviceConfig>[5] = {}, busy = false) {
  const sink = new LogSink();
  const c = await openCarrier(deviceConfig(rig.root, deviceId, rig.pki, rig.broker.url, carrierKeys.publicKey, over), {
    logger: createLogger({ destination: sink, level: 'debug' }), version: '0.1.0', modelsHash: 'm1', isBusy: () => busy,
    inventory: { model: 'Raspberry Pi 4 Model B Rev 1.5', serial: '10000000abcdef01' },
  });
  open.push(c);
  const requests: SessionRequest[] = [];
  c.link.onSessionRequest((r) => requests.push(r));
  await c.link.start(new AbortController().signal);
  await rig.carrier.until(() => c.link.health().connected, 10_000, 'device connected');
  return { ...c, sink, requests };
}

const pub = (deviceId: string) => join(rig.root, deviceId, 'identity', 'device.pub.pem');
const statusOf = (deviceId: string) =>
  rig.carrier.messages.filter((m) => m.topic === `regterm/v1/${deviceId}/status`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);

describe('CarrierLink against mosquitto (TLS client certs, per-device ACL)', () => {
  it('publishes retained online status, delivers a signed result, and deletes it on ack', async () => {
    const d = await device('dev-a');
    await rig.carrier.until(() => statusOf('dev-a').some((s) => s.state === 'online'), 5000, 'online');
    expect(statusOf('dev-a')[0]).toMatchObject({ state: 'online', version: '0.1.0', models: 'm1',
      inventory: { model: 'Raspberry Pi 4 Model B Rev 1.5' } });
    const entry = await d.link.submitResult(decision('s-1'));
    await rig.carrier.until(() => (rig.carrier.results.get('s-1')?.length ?? 0) > 0, 5000, 'result');
    expect(rig.carrier.results.get('s-1')![0]).toBe(entry.jws);
    const { payload } = await verifyResult(entry.jws, readPublicKey(pub('dev-a')));
    expect(payload).toMatchObject({ deviceId: 'dev-a', sessionId: 's-1', decision: 'match', models: 'm1' });
    await rig.carrier.until(() => d.link.health().outboxDepth === 0, 5000, 'ack removes the entry');
    expect(await d.outbox.depth()).toBe(0);
    await d.close();
    await rig.carrier.until(() => statusOf('dev-a').at(-1)?.state === 'offline', 5000, 'offline on stop');
  });

  it('stop() releases every socket and timer it took (leaked-handle check)', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const live = new Set<unknown>();
    const timer = {
      setTimeout: (fn: () => void, ms: number) => {
        const h: NodeJS.Timeout = setTimeout(() => { live.delete(h); fn(); }, ms);
        live.add(h);
        return h;
      },
      clearTimeout: (h: unknown) => { live.delete(h); clearTimeout(h as NodeJS.Timeout); },
    };
    const before = sockets();
    const ac = new AbortController();
    const c = await openCarrier(deviceConfig(rig.root, 'dev-leak', rig.pki, rig.broker.url, carrierKeys.publicKey), {
      logger: createLogger({ destination: new LogSink() }), version: '0.1.0', modelsHash: 'm1', timer });
    await c.link.start(ac.signal);
    await rig.carrier.until(() => c.link.health().connected, 5000, 'connected');
    await c.link.submitResult(decision('leak-1'));
    await rig.carrier.until(() => c.link.health().outboxDepth === 0, 5000, 'acked');
    expect(sockets()).toBe(before + 1);
    expect(live.size).toBeGreaterThan(0);
    ac.abort(); // the start signal cancels the start only: the link stays up until its owner stops it
    await new Promise((r) => setTimeout(r, 100));
    expect(c.link.health().connected).toBe(true);
    await c.close();
    expect(live.size, 'link timers left armed').toBe(0);
    for (let i = 0; i < 20 && sockets() > before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(sockets(), 'sockets left open').toBe(before);
  });

  it('pins the CA: a broker certificate from another CA is refused and the link keeps backing off', async () => {
    const otherDir = join(rig.root, 'other-pki');
    mkdirSync(otherDir);
    const other = createPki(otherDir);
    const config = deviceConfig(rig.root, 'dev-pin', rig.pki, rig.broker.url, carrierKeys.publicKey);
    const sink = new LogSink();
    const c = await openCarrier({ ...config, mqtt: { ...config.mqtt, caFile: other.ca } }, {
      logger: createLogger({ destination: sink }), version: '0.1.0', modelsHash: 'm1' });
    open.push(c);
    await c.link.start(new AbortController().signal);
    await rig.carrier.until(() => c.link.health().reconnects >= 2, 5000, 'failed attempts');
    expect(c.link.health().connected).toBe(false);
    expect(sink.lines.some((l) => l.msg === 'mqtt error' && /certificate/i.test(String(l.err)))).toBe(true);
  });

  it('publishes progress and telemetry while connected, drops them while offline, and refuses wildcard ids', async () => {
    const d = await device('dev-tele');
    expect(d.link.publishProgress('p-1', { prompt: 'look', challenge: null })).toBe(true);
    expect(d.link.publishTelemetry({ cpuTempC: 51.2, outboxDepth: d.link.health().outboxDepth })).toBe(true);
    await rig.carrier.until(() => rig.carrier.messages.some((m) => m.topic === 'regterm/v1/dev-tele/telemetry'), 5000, 'telemetry');
    await rig.carrier.until(() => rig.carrier.messages.some((m) => m.topic === 'regterm/v1/dev-tele/session/p-1/progress'), 5000, 'progress');
    expect(JSON.parse(rig.carrier.messages.find((m) => m.topic === 'regterm/v1/dev-tele/telemetry')!.payload)).toEqual({ cpuTempC: 51.2, outboxDepth: 0 });
    expect(() => d.link.publishProgress('#', {})).toThrow(/wildcard/);
    await d.close();
    expect(d.link.publishTelemetry({ x: 1 })).toBe(false);
  });

  it('works over MQTT 3.1.1 too', async () => {
    const d = await device('dev-v4', { protocolVersion: 4 });
    await d.link.submitResult(decision('s-v4'));
    await rig.carrier.until(() => rig.carrier.results.has('s-v4'), 5000, 'v4 result');
    await rig.carrier.until(() => d.link.health().outboxDepth === 0, 5000, 'ack');
  });

  it('results produced while the broker is down arrive after it returns', async () => {
    const d = await device('dev-down');
    await rig.broker.stop();
    await rig.carrier.until(() => !d.link.health().connected, 5000, 'link notices');
    const entries: OutboxEntry[] = [];
    for (let i = 0; i < 5; i++) entries.push(await d.link.submitResult(decision(`down-${i}`)));
    await rig.broker.start();
    await rig.carrier.until(() => entries.every((e) => rig.carrier.results.get(e.sessionId)?.includes(e.jws)), 20_000, 'all 5');
    await rig.carrier.until(() => d.link.health().outboxDepth === 0, 10_000, 'acks');
    expect(d.link.health().reconnects).toBeGreaterThan(0);
  });

  it('a second device certificate can neither read nor write the first device\'s topics', async () => {
    const d = await device('dev-victim');
    const cert = rig.pki.client('dev-evil');
    const evil = mqtt.connect(rig.broker.url, {
      clientId: 'evil', protocolVersion: 5, reconnectPeriod: 0, ca: readFileSync(rig.pki.ca),
      cert: readFileSync(cert.cert), key: readFileSync(cert.key),
    });
    await new Promise<void>((r) => evil.once('connect', () => r()));
    const got: string[] = [];
    evil.on('message', (t) => got.push(t));
    // mosquitto 2 grants the SUBACK and enforces the ACL per message: what counts is that nothing arrives.
    await evil.subscribeAsync('regterm/v1/dev-victim/#', { qos: 1 });
    const req = await signSessionRequest(buildSessionRequest({ deviceId: 'dev-victim', reference: REFERENCE, ttlS: 60 }),
      carrierKeys.privateKey, carrierKeys.kid);
    await evil.publishAsync('regterm/v1/dev-victim/session/request', req, { qos: 1 }).catch(() => undefined);
    await evil.publishAsync('regterm/v1/dev-victim/session/x/ack', '', { qos: 1 }).catch(() => undefined);
    await d.link.submitResult(decision('victim-1'));
    await rig.carrier.until(() => rig.carrier.results.has('victim-1'), 5000, 'carrier sees result');
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
    expect(d.requests).toEqual([]);
    await evil.endAsync();
  });

  it('hands a valid request to the session engine and answers invalid ones with signed rejections', async () => {
    const d = await device('dev-req');
    const good = buildSessionRequest({ deviceId: 'dev-req', reference: REFERENCE, ttlS: 60, sessionId: 'good-1' });
    await rig.carrier.publish('regterm/v1/dev-req/session/request', await signSessionRequest(good, carrierKeys.privateKey, carrierKeys.kid));
    await rig.carrier.until(() => d.requests.length === 1, 5000, 'request delivered');
    expect(d.requests[0]).toEqual(good);
    // the same request again is a replay, answered on _invalid: it is not the session's verdict
    await rig.carrier.publish('regterm/v1/dev-req/session/request', await signSessionRequest(good, carrierKeys.privateKey, carrierKeys.kid));
    const invalidTopic = `regterm/v1/dev-req/session/${INVALID_SESSION}/result`;
    await rig.carrier.until(() => rig.carrier.messages.some((m) => m.topic === invalidTopic), 5000, 'rejection');
    const { payload } = await verifyResult(rig.carrier.messages.find((m) => m.topic === invalidTopic)!.payload, readPublicKey(pub('dev-req')));
    expect(payload).toMatchObject({ decision: 'rejected', reason: 'replayed', sessionId: INVALID_SESSION, nonce: good.nonce });
    expect(rig.carrier.results.has('good-1')).toBe(false);
    expect(d.requests).toHaveLength(1);
    expect(d.sink.lines.some((l) => l.msg === 'session request rejected' && l.reason === 'replayed')).toBe(true);
  });

  it('rejects with busy while a session runs', async () => {
    const d = await device('dev-busy', {}, true);
    const req = buildSessionRequest({ deviceId: 'dev-busy', reference: REFERENCE, ttlS: 60, sessionId: 'busy-1' });
    await rig.carrier.publish('regterm/v1/dev-busy/session/request', await signSessionRequest(req, carrierKeys.privateKey, carrierKeys.kid));
    await rig.carrier.until(() => rig.carrier.results.has('busy-1'), 5000, 'busy rejection');
    const { payload } = await verifyResult(rig.carrier.results.get('busy-1')![0]!, readPublicKey(pub('dev-busy')));
    expect(payload.reason).toBe('busy');
    expect(d.requests).toHaveLength(0);
  });
});

describe('CarrierLink reconnects', () => {
  it('drives reconnects itself with capped exponential backoff and full jitter on the injected timer', async () => {
    const port = await freePort(); // nothing listens here: every attempt fails
    const delays: number[] = [];
    let fire: (() => void) | undefined;
    const timer = {
      setTimeout: (fn: () => void, ms: number) => {
        if (ms !== 2000) { delays.push(ms); fire = fn; } // 2000 = resendAfterMs, not a reconnect
        return delays.length;
      },
      clearTimeout: () => undefined,
    };
    const config = deviceConfig(rig.root, 'dev-backoff', rig.pki, `mqtts://127.0.0.1:${port}`, carrierKeys.publicKey,
      { reconnectMinMs: 100, reconnectMaxMs: 1600 });
    const c = await openCarrier(config, { logger: createLogger({ destination: new LogSink() }), version: '0.1.0',
      modelsHash: 'm1', timer, random: () => 0.5 });
    open.push(c);
    await c.link.start(new AbortController().signal);
    for (let i = 0; i < 7; i++) {
      await rig.carrier.until(() => delays.length > i, 5000, `attempt ${i}`);
      const next = fire!;
      fire = undefined;
      next();
    }
    expect(delays.slice(0, 7)).toEqual([50, 100, 200, 400, 800, 800, 800]);
    expect(c.link.health()).toMatchObject({ connected: false, reconnects: 7 });
  });
});
