import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { readPublicKey } from '../../../src/carrier/keys.ts';
import { openCarrier } from '../../../src/carrier/open.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { decision, testKeys } from '../../unit/carrier/helpers.ts';
import { deviceConfig } from './helpers/device.ts';
import { LogSink } from '../../unit/carrier/helpers.ts';
import { useBrokerRig } from './helpers/broker-rig.ts';

/**
 * Nothing lost: broker restarts during a burst, and the agent process killed with SIGKILL at random points.
 * Delivery is at-least-once with byte-identical re-deliveries; every committed result must arrive.
 */
const carrierKeys = await testKeys();
const rig = useBrokerRig({ name: 'faults', carrier: {
    autoAck: true, ackDelayMs: 150,
    // a carrier backend that loses the first ack of every third session: the device must resend the same bytes
    shouldAck: (sessionId, copies) => copies > 1 || Number(sessionId.split('-').at(-1)) % 3 !== 0,
  } });

const redeliveries = (ids: string[]) => ids.reduce((n, id) => n + (rig.carrier.results.get(id)?.length ?? 1) - 1, 0);

async function expectDelivered(deviceId: string, sessionIds: string[]): Promise<void> {
  const key = readPublicKey(join(rig.root, deviceId, 'identity', 'device.pub.pem'));
  const seqs: number[] = [];
  for (const id of sessionIds) {
    const copies = new Set(rig.carrier.results.get(id));
    expect(copies.size, `${id} delivered byte-identically`).toBe(1);
    const { payload } = await verifyResult([...copies][0]!, key);
    expect(payload.sessionId).toBe(id);
    seqs.push(payload.seq);
  }
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
}

describe('fault tolerance against a real broker', () => {
  it('broker restarted 20 times during a burst of 200 results: every result arrives, byte-identical', async () => {
    const d = await openCarrier(deviceConfig(rig.root, 'dev-burst', rig.pki, rig.broker.url, carrierKeys.publicKey), {
      logger: createLogger({ destination: new LogSink(), level: 'warn' }), version: '0.1.0', modelsHash: 'm1',
    });
    await d.link.start(new AbortController().signal);
    const ids = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
    const producing = (async () => {
      for (const id of ids) {
        await d.link.submitResult(decision(id));
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 80 + Math.random() * 120));
      await rig.broker.restart();
    }
    await producing;
    await rig.carrier.until(() => ids.every((id) => rig.carrier.results.has(id)), 60_000, 'all 200 results');
    await rig.carrier.until(() => d.link.health().outboxDepth === 0, 30_000, 'outbox drained');
    await expectDelivered('dev-burst', ids);
    expect(redeliveries(ids), 're-deliveries happened, so byte-identity was exercised').toBeGreaterThan(10);
    expect(d.link.health().reconnects).toBeGreaterThanOrEqual(20);
    await d.close();
  }, 120_000);

  it('agent killed with SIGKILL 20 times during a burst: every committed result is delivered as signed', async () => {
    const config = deviceConfig(rig.root, 'dev-kill', rig.pki, rig.broker.url, carrierKeys.publicKey);
    const configPath = join(rig.root, 'dev-kill', 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    const total = 200;
    const committed = new Map<string, number>();
    const index = (id: string) => Number(id.slice('kill-'.length));
    const nextFrom = () => {
      const seen = [...committed.keys(), ...[...rig.carrier.results.keys()].filter((k) => k.startsWith('kill-'))];
      return seen.length ? Math.max(...seen.map(index)) + 1 : 0;
    };
    const startChild = (from: number): { child: ChildProcess; ready: Promise<void>; done: Promise<void> } => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'agent-child.ts'),
        configPath, 'kill-', String(from), String(total), '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let buf = '';
      let onReady = () => {};
      const ready = new Promise<void>((resolve) => { onReady = resolve; });
      const done = new Promise<void>((resolve) => {
        child.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const [word, id, seq] = buf.slice(0, nl).split(' ');
            buf = buf.slice(nl + 1);
            if (word === 'committed') committed.set(id!, Number(seq));
            if (word === 'ready') onReady();
            if (word === 'done') resolve();
          }
        });
        child.once('exit', () => { onReady(); resolve(); });
      });
      return { child, ready, done };
    };
    const kill = (child: ChildProcess) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });

    let killsMidBurst = 0;
    for (let k = 0; k < 20; k++) {
      const before = committed.size;
      const { child, ready } = startChild(nextFrom());
      await ready;
      // anywhere from right after start (outbox drain, first submit) to mid-burst
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      await kill(child);
      if (committed.size > before && nextFrom() < total) killsMidBurst++;
    }
    expect(killsMidBurst, 'kills that hit a running burst').toBeGreaterThanOrEqual(10);
    const last = startChild(nextFrom());
    await last.done;
    const ids = Array.from({ length: total }, (_, i) => `kill-${i}`);
    await rig.carrier.until(() => [...committed.keys()].every((id) => rig.carrier.results.has(id)), 60_000, 'committed results');
    await rig.carrier.until(() => ids.every((id) => rig.carrier.results.has(id)), 60_000, 'every session decided and delivered');
    await new Promise<void>((resolve) => {
      last.child.once('exit', () => resolve());
      last.child.kill('SIGTERM');
    });
    for (const [id, seq] of committed) {
      const { payload } = await verifyResult(rig.carrier.results.get(id)![0]!,
        readPublicKey(join(rig.root, 'dev-kill', 'identity', 'device.pub.pem')));
      expect(payload.seq, `${id} arrives exactly as committed`).toBe(seq);
    }
    await expectDelivered('dev-kill', ids);
    expect(redeliveries(ids), 're-deliveries happened, so byte-identity was exercised').toBeGreaterThan(5);
    // abrupt deaths leave the retained last will
    expect(rig.carrier.messages.some((m) => m.topic === 'regterm/v1/dev-kill/status' && JSON.parse(m.payload).state === 'offline'))
      .toBe(true);
  }, 150_000);
});
