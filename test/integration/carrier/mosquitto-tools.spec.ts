import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openCarrier } from '../../../src/carrier/open.ts';
import type { SessionRequest } from '../../../src/carrier/protocol.ts';
import { readPublicKey } from '../../../src/carrier/keys.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { LogSink, decision } from '../../unit/carrier/helpers.ts';
import { deviceConfig } from './helpers/device.ts';
import { useBrokerRig } from './helpers/broker-rig.ts';

/**
 * The field workflow: a carrier drives a terminal with nothing but `regterm carrier ...`, mosquitto_pub and
 * mosquitto_sub, and checks the verdict with `regterm verify-result`.
 */
const run = promisify(execFile);
const REGTERM = join(import.meta.dirname, '..', '..', '..', 'bin', 'regterm.js');
const rig = useBrokerRig({ name: 'tools', carrier: false });

describe('driving a terminal with mosquitto_pub / mosquitto_sub', () => {
  it('request → session engine; result → mosquitto_sub → verify-result; ack → outbox empty', async () => {
    await run(process.execPath, [REGTERM, 'carrier', 'keygen', '--out', join(rig.root, 'carrier')]);
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).jpeg().toFile(join(rig.root, 'ref.jpg'));
    const c = await openCarrier(deviceConfig(rig.root, 'dev-field', rig.pki, rig.broker.url, readPublicKey(join(rig.root, 'carrier', 'carrier.pub.pem'))),
      { logger: createLogger({ destination: new LogSink() }), version: '0.1.0', modelsHash: 'm1' });
    const requests: SessionRequest[] = [];
    c.link.onSessionRequest((r) => requests.push(r));
    await c.link.start(new AbortController().signal);

    const cert = rig.pki.client('carrier');
    const tls = ['-h', '127.0.0.1', '-p', String(rig.broker.carrierListenerPort), '--cafile', rig.pki.ca, '--cert', cert.cert, '--key', cert.key, '-V', 'mqttv5'];
    const sub = spawn('mosquitto_sub', [...tls, '-t', 'regterm/v1/dev-field/session/field-1/result', '-C', '1', '-W', '20'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let received = '';
    sub.stdout.on('data', (d: Buffer) => { received += d.toString(); });
    const subDone = new Promise<number | null>((resolve) => sub.once('exit', resolve));
    await new Promise((r) => setTimeout(r, 500)); // let mosquitto_sub subscribe
    for (let i = 0; i < 50 && !c.link.health().connected; i++) await new Promise((r) => setTimeout(r, 100));

    const { stdout: request } = await run(process.execPath, [REGTERM, 'carrier', 'request', '--key', join(rig.root, 'carrier', 'carrier.key.pem'),
      '--device', 'dev-field', '--reference', join(rig.root, 'ref.jpg'), '--session', 'field-1', '--ttl', '60']);
    await run('mosquitto_pub', [...tls, '-q', '1', '-t', 'regterm/v1/dev-field/session/request', '-m', request.trim()]);
    for (let i = 0; i < 50 && requests.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(requests.map((r) => r.sessionId)).toEqual(['field-1']);

    await c.link.submitResult({ ...decision('field-1'), nonce: requests[0]!.nonce });
    expect(await subDone).toBe(0);
    writeFileSync(join(rig.root, 'result.jws'), received);
    const { stdout: verified } = await run(process.execPath, [REGTERM, 'verify-result', '--key',
      join(rig.root, 'dev-field', 'identity', 'device.pub.pem'), join(rig.root, 'result.jws')]);
    expect(JSON.parse(verified)).toMatchObject({ valid: true, payload: { sessionId: 'field-1', nonce: requests[0]!.nonce, decision: 'match' } });

    expect(c.link.health().outboxDepth).toBe(1);
    await run('mosquitto_pub', [...tls, '-q', '1', '-t', 'regterm/v1/dev-field/session/field-1/ack', '-n']);
    for (let i = 0; i < 50 && c.link.health().outboxDepth > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(c.link.health().outboxDepth).toBe(0);
    await c.close();
  });
});
