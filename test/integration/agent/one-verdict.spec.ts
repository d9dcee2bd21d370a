import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { INVALID_SESSION, type ResultPayload } from '../../../src/carrier/protocol.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { describeWithFaceData } from '../../face-data.ts';
import { recordAttack } from '../../attacks/table.ts';
import { until, type AgentProcess, type NotifySocket } from './agent-process.ts';
import { AgentRig, CLIP } from './agent-rig.ts';

/**
 * One verdict per session id (issue 16, item 4), with the agent as a real process against mosquitto (TLS, client
 * certificates) running a real session on the replay camera. While the session runs, an attacker on the broker
 * republishes the genuine request and sends unsigned requests naming the live session id; the carrier's own retry
 * reuses the id with a new nonce. The carrier must receive exactly one message on the session's result topic (the real
 * verdict); every other request is answered on `_invalid`, and every log line stays bounded.
 */
const DEVICE = 'term-verdict';
const LOG_LINE_BOUND = 2048;

const rig = new AgentRig({ deviceId: DEVICE,
  config: () => ({ log: { level: 'trace' }, mqtt: { reconnectMinMs: 200, reconnectMaxMs: 2000 }, telemetry: undefined }) });
let notify: NotifySocket;
let agent: AgentProcess | undefined;
const stranger = generateKeyPairSync('ed25519');

beforeAll(async () => {
  await rig.start();
  notify = rig.notifySocket('notify');
});

afterAll(() => rig.close());

const b64 = (text: string): string => Buffer.from(text).toString('base64url');

describeWithFaceData('one verdict per session id (real agent, mosquitto TLS, replay camera)', ['liveportrait_driving_videos/d3.mp4'], () => {
  it('a replayed genuine request, unsigned requests naming the live session and a reused session id never reach its result topic', async () => {
    const { topics, carrier, carrierKey } = rig;
    agent = rig.spawnAgent({ HOME: process.env.HOME, NOTIFY_SOCKET: notify.path });
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

    const devicePub = readPublicKey(rig.devicePublicKeyFile);
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
