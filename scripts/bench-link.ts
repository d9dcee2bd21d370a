/**
 * Load run for the carrier link (a benchmark, not a test): N simulated terminals, each with its own TLS client
 * certificate, device key and SQLite outbox, connect to one local mosquitto (TLS + per-device ACL, as in the
 * integration tests) and each submit R results; a carrier client receives and acks them. Reports connect time,
 * throughput and end-to-end latency percentiles (submitResult() called → result received by the carrier,
 * i.e. sign + fsync commit + publish + broker routing).
 *
 * --spread-ms S: each terminal waits a random 0..S ms before each result (an offered load of about
 * terminals × 2000/S results/s); 0 = everyone at once (a burst: latency is then queueing behind the fsyncs).
 *
 * usage: node --import tsx scripts/bench-link.ts [--terminals 200] [--results 5] [--spread-ms 0] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { openCarrier, type OpenCarrier } from '../src/carrier/open.ts';
import { createLogger } from '../src/lib/logger.ts';
import { CarrierClient } from '../test/integration/carrier/helpers/carrier-client.ts';
import { deviceConfig } from '../test/integration/carrier/helpers/device.ts';
import { Mosquitto, freePort } from '../test/integration/carrier/helpers/mosquitto.ts';
import { createPki } from '../test/integration/carrier/helpers/pki.ts';
import { LogSink, decision } from '../test/unit/carrier/helpers.ts';

const { values } = parseArgs({ options: { terminals: { type: 'string', default: '200' }, results: { type: 'string', default: '5' },
  'spread-ms': { type: 'string', default: '0' }, json: { type: 'boolean', default: false } } });
const spreadMs = Number(values['spread-ms']);
const terminals = Number(values.terminals);
const perTerminal = Number(values.results);

const root = mkdtempSync(join(tmpdir(), 'regterm-bench-link-'));
const carrierKey = generateKeyPairSync('ed25519').publicKey;
const pki = createPki(root);
const broker = new Mosquitto(root, await freePort(), pki);
const devices: OpenCarrier[] = [];
let carrier: CarrierClient | undefined;
try {
  await broker.start();
  carrier = new CarrierClient(broker.url, pki.ca, pki.client('carrier'));
  await carrier.start('regterm/v1/+/session/+/result');
  const received = new Map<string, number>();
  carrier.client.on('message', (topic) => {
    const id = /session\/([^/]+)\/result$/.exec(topic)?.[1];
    if (id && !received.has(id)) received.set(id, performance.now());
  });

  const t0 = performance.now();
  for (let i = 0; i < terminals; i++) pki.client(`t${i}`);
  const certMs = performance.now() - t0;

  const logger = createLogger({ destination: new LogSink(), level: 'warn' });
  const c0 = performance.now();
  for (let i = 0; i < terminals; i++) {
    const d = await openCarrier(deviceConfig(root, `t${i}`, pki, broker.url, carrierKey, { resendAfterMs: 60_000 }),
      { logger, version: '0.1.0', modelsHash: 'bench' });
    devices.push(d);
    await d.link.start(new AbortController().signal);
  }
  await carrier.until(() => devices.every((d) => d.link.health().connected), 120_000, 'all terminals connected');
  const connectMs = performance.now() - c0;

  const started = new Map<string, number>();
  const s0 = performance.now();
  await Promise.all(devices.map(async (d, i) => {
    for (let r = 0; r < perTerminal; r++) {
      if (spreadMs > 0) await new Promise((res) => setTimeout(res, Math.random() * spreadMs));
      const id = `t${i}-r${r}`;
      started.set(id, performance.now());
      await d.link.submitResult(decision(id));
    }
  }));
  const total = terminals * perTerminal;
  await carrier.until(() => received.size >= total, 300_000, 'all results');
  const s1 = Math.max(...received.values());
  const lat = [...started].map(([id, t]) => received.get(id)! - t).sort((a, b) => a - b);
  const pct = (p: number) => Number(lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!.toFixed(1));
  await carrier.until(() => devices.every((d) => d.link.health().outboxDepth === 0), 60_000, 'all acked');
  const report = {
    terminals, resultsPerTerminal: perTerminal, spreadMs, results: total, certGenerationMs: Math.round(certMs),
    connectAllMs: Math.round(connectMs), throughputPerS: Number((total / ((s1 - s0) / 1000)).toFixed(1)),
    latencyMs: { p50: pct(50), p90: pct(90), p95: pct(95), p99: pct(99), max: pct(100) },
    cpus: (await import('node:os')).cpus().length, node: process.version,
  };
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`);
} finally {
  for (const d of devices) await d.close();
  await carrier?.stop();
  await broker.stop();
  rmSync(root, { recursive: true, force: true });
}
