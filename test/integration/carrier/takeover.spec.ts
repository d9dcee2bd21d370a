import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCarrier } from '../../../src/carrier/open.ts';
import { createLogger } from '../../../src/device/logger.ts';
import { recordAttack } from '../../attacks/table.ts';
import { LogSink, testKeys } from '../../unit/carrier/helpers.ts';
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

    const cert = pki.client('term-2');
    const rogue = mqtt.connect(broker.url, {
      clientId: String(clientId), protocolVersion: 5, clean: false, reconnectPeriod: 100, connectTimeout: 3000,
      ca: readFileSync(pki.ca), cert: readFileSync(cert.cert), key: readFileSync(cert.key),
    });
    let rogueConnects = 0;
    rogue.on('connect', () => { rogueConnects++; });
    rogue.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, ROGUE_MS));
    await rogue.endAsync(true);
    return { drops: sink.lines.filter((l) => l.msg === 'disconnected').length, rogueConnects, sink, health: victim.link.health() };
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
    const weak = (conf: string) => {
      expect(conf).toContain('use_username_as_clientid true');
      return conf.replace('use_username_as_clientid true', 'use_username_as_clientid false');
    };
    const r = await takeoverAttempt('weak', { editConfig: weak });
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
});
