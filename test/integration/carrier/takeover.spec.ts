import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCarrier } from '../../../src/carrier/open.ts';
import { Topics } from '../../../src/carrier/protocol.ts';
import { createIdentity, PRIVATE_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { DEMO_CLIP } from '../../../src/compose/demo/asset.ts';
import { recordAttack } from '../../attacks/table.ts';
import { LogSink, testKeys } from '../../unit/carrier/helpers.ts';
import { AgentProcess, until } from '../agent/agent-process.ts';
import { CarrierClient } from './helpers/carrier-client.ts';
import { deviceConfig } from './helpers/device.ts';
import { Mosquitto, freePort, type MosquittoOptions } from './helpers/mosquitto.ts';
import { createPki, type TestPki } from './helpers/pki.ts';

/**
 * Client-id takeover: a second terminal's certificate connects with the first terminal's client id, again and again
 * (a rogue or a cloned configuration). With the documented broker configuration (docs/mosquitto.conf.example:
 * the certificate CN is the client id) the first terminal must not be disconnected once. With the client id left to
 * the client, the broker hands the session to whoever connected last: the terminal is knocked off over and over, and
 * its link must say so in the log and in health().
 */
const carrierKeys = await testKeys();
const ROGUE_MS = 10_000;
let root = '';
let pki: TestPki;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'regterm-takeover-'));
  pki = createPki(root);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** term-2's certificate connecting as `clientId` and reconnecting whenever it is dropped, until `end()`. */
function rogue(url: string, clientId: string) {
  const cert = pki.client('term-2');
  const client = mqtt.connect(url, {
    clientId, protocolVersion: 5, clean: false, reconnectPeriod: 100, connectTimeout: 3000,
    ca: readFileSync(pki.ca), cert: readFileSync(cert.cert), key: readFileSync(cert.key),
  });
  const state = { connects: 0, end: () => client.endAsync(true) };
  client.on('connect', () => { state.connects++; });
  client.on('error', () => undefined);
  return state;
}

const weakConfig = (conf: string) => {
  expect(conf).toContain('use_username_as_clientid true');
  return conf.replace('use_username_as_clientid true', 'use_username_as_clientid false');
};

/** term-1's link on a broker with `options`, and term-2's certificate claiming term-1's client id for ROGUE_MS. */
async function takeoverAttempt(name: string, options: MosquittoOptions) {
  const dir = mkdtempSync(join(root, `${name}-`));
  const broker = new Mosquitto(dir, await freePort(), pki, options);
  await broker.start();
  const sink = new LogSink();
  const victim = await openCarrier(deviceConfig(dir, 'term-1', pki, broker.url, carrierKeys.publicKey),
    { logger: createLogger({ destination: sink }), version: '0.1.0', modelsHash: 'm1' });
  try {
    await victim.link.start(new AbortController().signal);
    for (let i = 0; i < 100 && !victim.link.health().connected; i++) await new Promise((r) => setTimeout(r, 50));
    expect(victim.link.health().connected).toBe(true);
    const clientId = sink.lines.find((l) => l.msg === 'connected')?.clientId;
    expect(clientId).toBe('term-1');

    const intruder = rogue(broker.url, String(clientId));
    await new Promise((r) => setTimeout(r, ROGUE_MS));
    await intruder.end();
    return { drops: sink.lines.filter((l) => l.msg === 'disconnected').length, rogueConnects: intruder.connects, sink, health: victim.link.health() };
  } finally {
    await victim.close();
    await broker.stop();
  }
}

describe('client-id takeover at the broker', () => {
  it('documented config: another certificate claiming the terminal\'s client id does not disconnect it', async () => {
    const r = await takeoverAttempt('documented', {});
    recordAttack({ area: 'broker', attack: `term-2 cert connecting as client id term-1 for ${ROGUE_MS / 1000} s (documented config)`,
      expected: 'term-1 never disconnected', observed: r.drops === 0 ? 'term-1 never disconnected' : `term-1 disconnected ${r.drops}x` });
    expect(r.rogueConnects).toBeGreaterThan(0); // the rogue's certificate is valid: it gets in, as itself
    expect(r.drops).toBe(0);
    expect(r.health).toMatchObject({ connected: true, knockOffs: 0, reconnects: 0 });
  }, 30_000);

  it('client id left to the client: the terminal is knocked off repeatedly and its link warns', async () => {
    const r = await takeoverAttempt('weak', { editConfig: weakConfig });
    const warnings = r.sink.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('the broker keeps dropping'));
    recordAttack({ area: 'broker', attack: 'the same without use_username_as_clientid (the weak config)',
      expected: 'knock-offs counted, warning logged',
      observed: r.health.knockOffs >= 5 && warnings.length > 0 ? 'knock-offs counted, warning logged'
        : `${r.health.knockOffs} knock-offs, ${warnings.length} warnings` });
    expect(r.drops).toBeGreaterThanOrEqual(5);
    expect(r.health.knockOffs).toBeGreaterThanOrEqual(5);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    // mosquitto 2.0 closes the old connection without a DISCONNECT 0x8E ("Session taken over"): the drops right after
    // CONNACK are what gives it away
    expect(warnings[0]).toMatchObject({ level: 40, clientId: 'term-1', count: 3, windowMs: 60_000 });
  }, 30_000);

  it('the real agent on the weak config logs the warning and reports its knock-offs in telemetry', async () => {
    const dir = mkdtempSync(join(root, 'agent-'));
    const broker = new Mosquitto(dir, await freePort(), pki, { editConfig: weakConfig });
    await broker.start();
    const carrier = new CarrierClient(broker.carrierUrl, pki.ca, pki.client('carrier'), { autoAck: true });
    let agent: AgentProcess | undefined;
    try {
      await carrier.start('regterm/v1/term-1/#');
      await createIdentity(join(dir, 'identity'));
      mkdirSync(join(dir, 'carrier-keys'));
      writeFileSync(join(dir, 'carrier-keys', 'carrier.pem'), carrierKeys.publicKey.export({ format: 'pem', type: 'spki' }));
      const cert = pki.client('term-1');
      writeFileSync(join(dir, 'config.json'), JSON.stringify({
        deviceId: 'term-1', stateDir: join(dir, 'state'), panel: { backend: 'sim' },
        camera: { backend: 'replay', recording: DEMO_CLIP, pace: 'fast' },
        mqtt: { url: broker.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key },
        carrier: { keysDir: join(dir, 'carrier-keys'), drainBudgetMs: 1000 },
        identity: { signingKeyFile: join(dir, 'identity', PRIVATE_KEY_FILE) },
        telemetry: { intervalS: 5 },
      }));
      agent = new AgentProcess(['run', '--config', join(dir, 'config.json')], { PATH: process.env.PATH, HOME: dir });
      await until(() => agent!.hasLog('connected'), 60_000, `the agent to connect (stderr: ${agent.stderr})`);
      const intruder = rogue(broker.url, 'term-1');
      await until(() => agent!.lines.some((l) => String(l.msg).startsWith('the broker keeps dropping')), ROGUE_MS, 'the warning');
      await intruder.end();
      const topic = new Topics('term-1').telemetry;
      const knockOffs = () => carrier.messages.filter((m) => m.topic === topic)
        .map((m) => (JSON.parse(m.payload) as { link?: { knockOffs: number } }).link?.knockOffs ?? 0);
      await carrier.until(() => knockOffs().some((n) => n >= 3), 15_000, 'a telemetry sample with the knock-offs');
      const warning = agent.lines.find((l) => String(l.msg).startsWith('the broker keeps dropping'));
      recordAttack({ area: 'broker', attack: 'rogue as term-1 against the real agent (weak config)',
        expected: 'agent warns, telemetry counts', observed: warning && Math.max(...knockOffs()) >= 3
          ? 'agent warns, telemetry counts' : 'no warning or no count' });
      expect(warning).toMatchObject({ level: 40, component: 'carrier-link', clientId: 'term-1', count: 3 });
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toEqual({ code: 0, signal: null });
    } finally {
      agent?.killGroup();
      await carrier.stop();
      await broker.stop();
    }
  }, 120_000);
});
