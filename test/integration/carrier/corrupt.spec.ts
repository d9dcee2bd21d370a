import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { readPublicKey } from '../../../src/carrier/keys.ts';
import { openCarrier } from '../../../src/carrier/open.ts';
import { INVALID_SESSION, Topics, type ResultPayload } from '../../../src/carrier/protocol.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { recordAttack } from '../../attacks/table.ts';
import { LogSink, REFERENCE, decision, testKeys } from '../../unit/carrier/helpers.ts';
import { deviceConfig } from './helpers/device.ts';
import { useBrokerRig } from './helpers/broker-rig.ts';

/**
 * A corrupt state database over the real broker: the file holds a claimed nonce (a request an attacker captured),
 * an undelivered result and a session accepted but never decided. Pages of the nonce table are overwritten with
 * garbage. After the restart the file is moved aside, the captured request is still refused as `replayed` (the
 * nonce file), the undelivered result is delivered byte-identically and the accepted session gets `interrupted`
 * (both read back from the moved-aside file).
 */
const carrierKeys = await testKeys();
const rig = useBrokerRig({ name: 'corrupt', carrier: { autoAck: true, noAckPrefix: 'noack-' } });

/** Overwrites whole pages of the database file with garbage. */
function garblePages(path: string, pages: number[]): void {
  const db = new Database(path, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const fd = openSync(path, 'r+');
  try {
    for (const page of pages) writeSync(fd, Buffer.alloc(pageSize, 0xa7), 0, pageSize, (page - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
}

describe('corrupt state database', () => {
  it('keeps the nonce memory, delivers the undelivered result and answers the accepted session', async () => {
    const deviceId = 'dev-corrupt';
    const topics = new Topics(deviceId);
    const config = deviceConfig(rig.root, deviceId, rig.pki, rig.broker.url, carrierKeys.publicKey);
    const open = async (sink: LogSink) => {
      const c = await openCarrier(config, { logger: createLogger({ destination: sink }), version: '0.1.0', modelsHash: 'm1' });
      await c.link.start(new AbortController().signal);
      await rig.carrier.until(() => c.link.health().connected, 10_000, 'connected');
      return c;
    };
    const answer = async (sessionId: string, copy: number) => (await verifyResult(rig.carrier.results.get(sessionId)![copy]!,
      readPublicKey(join(rig.root, deviceId, 'identity', 'device.pub.pem')))).payload as ResultPayload;

    const first = await open(new LogSink());
    const request = buildSessionRequest({ deviceId, reference: REFERENCE, ttlS: 300, sessionId: 'captured-1' });
    const captured = await signSessionRequest(request, carrierKeys.privateKey, carrierKeys.kid);
    await rig.carrier.publish(topics.request, captured);
    // no session engine listens here, so it is refused as busy, but its nonce is spent
    await rig.carrier.until(() => rig.carrier.results.has('captured-1'), 10_000, 'the first answer');
    expect(await answer('captured-1', 0)).toMatchObject({ decision: 'rejected', reason: 'busy' });
    await first.link.submitResult(decision('noack-1'));
    await first.outbox.accept('acc-1', 'nonce-acc-1-0123456789');
    await rig.carrier.until(() => rig.carrier.results.has('noack-1'), 10_000, 'the undelivered result, once');
    await first.close();

    const path = join(rig.root, deviceId, 'state', 'state.db');
    const probe = new Database(path, { readonly: true });
    const roots = probe.prepare(`SELECT rootpage FROM sqlite_master WHERE tbl_name = 'nonces'`).pluck().all() as number[];
    probe.close();
    garblePages(path, roots);

    const sink = new LogSink();
    const second = await open(sink);
    expect(sink.lines.find((l) => l.msg === 'state database was corrupt: moved aside, readable rows recovered'))
      .toMatchObject({ outbox: 1, accepted: 1, nonces: 0 }); // the nonce table is lost: the nonce file answers
    expect(readdirSync(join(rig.root, deviceId, 'state')).some((f) => f.startsWith('state.db.corrupt-'))).toBe(true);

    await rig.carrier.until(() => (rig.carrier.results.get('noack-1')?.length ?? 0) >= 2, 10_000, 'the undelivered result again');
    const resent = rig.carrier.results.get('noack-1')!;
    recordAttack({ area: 'durability', attack: 'undelivered result in a corrupted state.db', expected: 'delivered, same bytes',
      observed: resent[1] === resent[0] ? 'delivered, same bytes' : 'delivered, different bytes' });
    expect(resent[1]).toBe(resent[0]);

    await rig.carrier.until(() => rig.carrier.results.has('acc-1'), 10_000, 'the accepted session answered');
    const interrupted = await answer('acc-1', 0);
    recordAttack({ area: 'durability', attack: 'accepted session in a corrupted state.db', expected: 'signed interrupted',
      observed: `signed ${interrupted.decision}` });
    expect(interrupted).toMatchObject({ decision: 'interrupted', decidedBy: 'restart', nonce: 'nonce-acc-1-0123456789' });

    // A replay is no session's verdict: answered on _invalid (docs/reliability.md, Requests), echoing the signed nonce.
    const invalidBefore = rig.carrier.results.get(INVALID_SESSION)?.length ?? 0;
    await rig.carrier.publish(topics.request, captured);
    await rig.carrier.until(() => (rig.carrier.results.get(INVALID_SESSION)?.length ?? 0) > invalidBefore, 10_000, 'the replay answer');
    const replay = await answer(INVALID_SESSION, invalidBefore);
    recordAttack({ area: 'durability', attack: 'captured request replayed after state.db corruption',
      expected: 'signed rejected/replayed', observed: `signed ${replay.decision}/${replay.reason}` });
    expect(replay).toMatchObject({ decision: 'rejected', reason: 'replayed', nonce: request.nonce });
    expect(rig.carrier.results.get('captured-1')).toHaveLength(1);
    await second.close();
  }, 60_000);
});
