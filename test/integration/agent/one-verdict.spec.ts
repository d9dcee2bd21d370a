import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { INVALID_SESSION, Topics, type ResultPayload } from '../../../src/carrier/protocol.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { createIdentity, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { describeWithFaceData, faceDataRoot } from '../../face-data.ts';
import { recordAttack } from '../../attacks/table.ts';
import { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import { Mosquitto, freePort } from '../carrier/helpers/mosquitto.ts';
import { createPki } from '../carrier/helpers/pki.ts';
import { AgentProcess, NotifySocket, until } from './agent-process.ts';

/**
 * One verdict per session id (issue 16, item 4), with the agent as a real process against mosquitto (TLS, client
 * certificates) running a real session on the replay camera. While the session runs, an attacker on the broker
 * republishes the genuine request and sends unsigned requests naming the live session id; the carrier's own retry
 * reuses the id with a new nonce. The carrier must receive exactly one message on the session's result topic (the real
 * verdict); every other request is answered on `_invalid`, and every log line stays bounded.
 */
const CLIP = join(faceDataRoot(), 'liveportrait_driving_videos', 'd3.mp4');
const DEVICE = 'term-verdict';
const LOG_LINE_BOUND = 2048;

let dir = '';
let mosquitto: Mosquitto;
let carrier: CarrierClient;
let notify: NotifySocket;
let agent: AgentProcess | undefined;
let configPath = '';
const carrierKey = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-verdict-'));
  mkdirSync(join(dir, 'pki'));
  const pki = createPki(join(dir, 'pki'));
  mosquitto = new Mosquitto(dir, await freePort(), pki);
  await mosquitto.start();
  await createIdentity(join(dir, 'identity'));
  mkdirSync(join(dir, 'carrier-keys'));
  writeFileSync(join(dir, 'carrier-keys', 'carrier.pem'), carrierKey.publicKey.export({ format: 'pem', type: 'spki' }));
  const cert = pki.client(DEVICE);
  configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({
    deviceId: DEVICE, stateDir: join(dir, 'state'), log: { level: 'trace' },
    camera: { backend: 'replay', recording: CLIP, pace: 'fast' }, panel: { backend: 'sim' },
    mqtt: { url: mosquitto.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 200, reconnectMaxMs: 2000 },
    carrier: { keysDir: join(dir, 'carrier-keys'), drainBudgetMs: 3000 },
    identity: { signingKeyFile: join(dir, 'identity', PRIVATE_KEY_FILE) },
  }));
  carrier = new CarrierClient(mosquitto.url, pki.ca, pki.client('carrier'), { autoAck: true });
  await carrier.start(`regterm/v1/${DEVICE}/#`);
  notify = new NotifySocket(join(dir, 'notify.sock'));
});

afterAll(async () => {
  agent?.killGroup();
  await carrier?.stop();
  notify?.close();
  await mosquitto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const b64 = (text: string): string => Buffer.from(text).toString('base64url');

describeWithFaceData('one verdict per session id (real agent, mosquitto TLS, replay camera)', ['liveportrait_driving_videos/d3.mp4'], () => {
  it('a replayed genuine request, unsigned requests naming the live session and a reused session id never reach its result topic', async () => {
    const topics = new Topics(DEVICE);
    agent = new AgentProcess(['run', '--config', configPath], { PATH: process.env.PATH, HOME: process.env.HOME, NOTIFY_SOCKET: notify.path });
    await until(() => notify.states.includes('READY=1'), 120_000, `READY=1 (stderr: ${agent.stderr})`);
    const kid = await keyId(carrierKey.publicKey);
    const reference = { format: 'jpeg' as const, data: await extractJpegFrame(CLIP, 10.5) };
    const genuine = buildSessionRequest({ deviceId: DEVICE, reference, ttlS: 300,
      policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
    const S = genuine.sessionId;
    const genuineJws = await signSessionRequest(genuine, carrierKey.privateKey, kid);
    await carrier.publish(topics.request, genuineJws);
    await carrier.until(() => carrier.messages.some((m) => m.topic === topics.progress(S)), 60_000, 'the session to run');

    // While it runs: [attack, what the request is, expected reason on _invalid]
    const payloadNamingS = b64(JSON.stringify(genuine));
    const attacks: [string, string, string][] = [
      ['genuine request republished while its session runs', genuineJws, 'replayed'],
      ['carrier retry: same session id, new nonce', await signSessionRequest({ ...genuine, nonce: 'another-nonce-0123456789' }, carrierKey.privateKey, kid), 'replayed'],
      ['unsigned, naming the live session (forged signature, pinned kid)', await signSessionRequest(genuine, stranger.privateKey, kid), 'bad_signature'],
      ['unsigned, naming the live session (unknown kid)', `${b64(JSON.stringify({ alg: 'EdDSA', kid: 'nobody' }))}.${payloadNamingS}.AAAA`, 'unknown_key'],
      ['unsigned, naming the live session (kid a JSON object)', `${b64(JSON.stringify({ alg: 'EdDSA', kid: { toString: 1 } }))}.${payloadNamingS}.AAAA`, 'unknown_key'],
      ['unsigned, naming the live session (kid of 100,000 characters)', `${b64(JSON.stringify({ alg: 'EdDSA', kid: 'k'.repeat(100_000) }))}.${payloadNamingS}.AAAA`, 'unknown_key'],
    ];
    for (const [, raw] of attacks) await carrier.publish(topics.request, raw);
    await carrier.until(() => carrier.results.has(S), 120_000, 'the session result');
    // after the verdict: the genuine request once more
    attacks.push(['genuine request republished after its verdict', genuineJws, 'replayed']);
    await carrier.publish(topics.request, genuineJws);

    const devicePub = readPublicKey(join(dir, 'identity', PUBLIC_KEY_FILE));
    const decode = async (jws: string): Promise<ResultPayload> => (await verifyResult(jws, devicePub)).payload;
    await carrier.until(() => (carrier.results.get(INVALID_SESSION)?.length ?? 0) >= attacks.length, 20_000, 'every attack answered')
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000)); // anything late would arrive now
    const onS = await Promise.all(carrier.messages.filter((m) => m.topic === topics.result(S)).map((m) => decode(m.payload)));
    const invalid = await Promise.all((carrier.results.get(INVALID_SESSION) ?? []).map(decode));

    const verdicts = onS.map((p) => `${p.decision}${p.reason ? `/${p.reason}` : ''}`).join(', ');
    recordAttack({ area: 'request', attack: `${attacks.length} replays and unsigned requests naming a live session (real agent)`,
      expected: '1 message(s) on its result topic: match', observed: `${onS.length} message(s) on its result topic: ${verdicts}` });
    attacks.forEach(([attack, , reason], i) => {
      const got = invalid[i];
      recordAttack({ area: 'request', attack: `${attack} (real agent)`, expected: `${reason} on ${INVALID_SESSION}`,
        observed: got ? `${got.reason} on ${INVALID_SESSION}` : 'no answer on _invalid' });
    });
    expect(onS).toHaveLength(1);
    expect(onS[0]).toMatchObject({ sessionId: S, nonce: genuine.nonce, decision: 'match' });
    expect(invalid.map((p) => p.reason)).toEqual(attacks.map(([, , reason]) => reason));
    expect(invalid.every((p) => p.sessionId === INVALID_SESSION && p.decision === 'rejected')).toBe(true);
    // a verified replay echoes its nonce (the carrier can tell which request was replayed); an unsigned one echoes nothing
    expect(invalid.map((p) => p.nonce)).toEqual(attacks.map(([, , reason]) =>
      reason === 'replayed' ? expect.stringMatching(/.+/) : ''));

    agent.child.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    const longest = Math.max(...agent.raw.split('\n').map((l) => Buffer.byteLength(l)));
    recordAttack({ area: 'request', attack: 'kid of 100,000 characters, longest agent log line', expected: `log lines <= ${LOG_LINE_BOUND} B`,
      observed: longest <= LOG_LINE_BOUND ? `log lines <= ${LOG_LINE_BOUND} B` : `a ${longest} B log line` });
    expect(longest).toBeLessThanOrEqual(LOG_LINE_BOUND);
  }, 480_000);
});
