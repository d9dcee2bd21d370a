import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { TRACE_REQUEST_TYP, signJson } from '../../../src/carrier/jws.ts';
import { compactVerify } from 'jose';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { referenceTemplate } from '../../../src/session/reference-intake.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { REGTERM, until, type AgentProcess, type NotifySocket } from './agent-process.ts';
import { AgentRig } from './agent-rig.ts';
import { findBiometricLeaks } from './log-scan.ts';
import { DEMO_CLIP } from '../../../src/compose/demo/asset.ts';

/**
 * `regterm run` end to end: the agent as a real process (bin/regterm.js, tsx) against the real mosquitto with TLS
 * client certificates and the per-device ACL, the replay camera on a real clip and the sim panel. A test carrier
 * signs a session request; the signed result is verified with the carrier's tool (`regterm verify-result`) and
 * acknowledged; SIGTERM stops the agent with exit 0, `offline` retained and no child process left. The agent logs
 * at trace level and every line is scanned for biometric data.
 */
/** the bundled demo clip (models/demo): one person, frontal, then a turn to their left */
const CLIP = DEMO_CLIP;
const DEVICE = 'term-e2e';
const run = promisify(execFile);

const rig = new AgentRig({ deviceId: DEVICE, config: () => ({ log: { level: 'trace' },
  camera: { backend: 'replay', recording: CLIP, pace: 'fast' }, mqtt: { reconnectMinMs: 200, reconnectMaxMs: 2000 } }) });
let dir = '';
let carrier: AgentRig['carrier'];
let notify: NotifySocket;
let agent: AgentProcess;
let devicePub = '';
let carrierKey: AgentRig['carrierKey'];

beforeAll(async () => {
  await rig.start();
  ({ dir, carrier, carrierKey, devicePublicKeyFile: devicePub } = rig);
  notify = rig.notifySocket('notify');
});

afterAll(() => rig.close());

describe('regterm run (real mosquitto, TLS + ACL, replay camera, sim panel)', () => {
  it('runs a carrier-requested session, delivers a verifiable signed result, and stops cleanly on SIGTERM', async () => {
    expect(existsSync(CLIP)).toBe(true);
    const { topics } = rig;
    agent = rig.spawnAgent({ HOME: process.env.HOME, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '2000000' });

    await until(() => notify.states.includes('READY=1'), 60_000, `READY=1 (stderr: ${agent.stderr})`);
    await carrier.until(() => carrier.messages.some((m) => m.topic === topics.status && m.payload.includes('"online"')), 10_000, 'online');
    // fed while healthy: frames are not expected from a lockstep replay nobody reads, the broker answers pings
    await until(() => notify.states.filter((s) => s === 'WATCHDOG=1').length >= 2, 5000, 'WATCHDOG=1');

    const reference = await extractJpegFrame(CLIP, -1);
    const request = buildSessionRequest({ deviceId: DEVICE, reference: { format: 'jpeg', data: reference }, ttlS: 300,
      policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
    const requestJws = await signSessionRequest(request, carrierKey.privateKey, await keyId(carrierKey.publicKey));
    await carrier.publish(topics.request, requestJws);
    await carrier.until(() => carrier.results.has(request.sessionId), 120_000, 'the session result');

    const jws = carrier.results.get(request.sessionId)![0]!;
    const jwsFile = join(dir, 'result.jws');
    writeFileSync(jwsFile, jws);
    const verified = await run(process.execPath, [REGTERM, 'verify-result', '--key', devicePub, jwsFile], { encoding: 'utf8' });
    const { valid, payload } = JSON.parse(verified.stdout) as { valid: boolean; payload: Record<string, unknown> };
    expect(valid).toBe(true);
    expect(payload).toMatchObject({ deviceId: DEVICE, sessionId: request.sessionId, nonce: request.nonce, decision: 'match', seq: 1 });
    expect((payload.challenges as Array<{ type: string; passed: boolean }>)).toEqual([expect.objectContaining({ type: 'turn_left', passed: true })]);
    const progress = carrier.messages.filter((m) => m.topic === topics.progress(request.sessionId)).map((m) => JSON.parse(m.payload) as { prompt?: string });
    expect(progress.map((p) => p.prompt)).toContain('turn_left');
    await until(() => agent.hasLog('result acknowledged'), 10_000, 'the ack to reach the outbox');

    // The carrier fetches the session's trace with a signed request; the answer is device-signed. A request the
    // terminal cannot verify gets no answer at all.
    const askTrace = async (sessionId: string, signer = carrierKey) => carrier.publish(topics.traceRequest,
      await signJson({ v: 1, deviceId: DEVICE, sessionId, issuedAt: new Date().toISOString() }, signer.privateKey,
        await keyId(signer.publicKey), TRACE_REQUEST_TYP));
    await askTrace('s-never-ran', generateKeyPairSync('ed25519'));
    await askTrace(request.sessionId);
    await askTrace('s-never-ran');
    await carrier.until(() => carrier.messages.some((m) => m.topic === topics.trace('s-never-ran')), 15_000, 'the trace answers');
    const answers = carrier.messages.filter((m) => m.topic.startsWith(`${topics.prefix}/trace/s`) || m.topic === topics.trace(request.sessionId));
    const opened = await Promise.all(answers.map(async (m) => JSON.parse(new TextDecoder().decode(
      (await compactVerify(m.payload, readPublicKey(devicePub))).payload)) as { sessionId: string; found: boolean; trace?: { decision: { decision: string } } }));
    expect(opened.map((a) => [a.sessionId, a.found, a.trace?.decision.decision])).toEqual([[request.sessionId, true, 'match'], ['s-never-ran', false, undefined]]);

    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(notify.states.at(-1)).toBe('STOPPING=1');
    // the process ended on its own: stop() released every handle (no forced exit after the grace period)
    expect(agent.hasLog('handles still open after stop; exiting')).toBe(false);
    await carrier.until(() => carrier.messages.some((m) => m.topic === topics.status && m.payload.includes('"offline"')), 5000, 'offline');
    // nothing the agent started outlives it (an exited child is a zombie until init reaps it: allow a moment)
    await until(() => agent.leftovers().length === 0, 3000, `no leftover processes (${agent.leftovers().join('; ')})`).catch(() => undefined);
    expect(agent.leftovers()).toEqual([]);
    for (const component of ['systemd', 'telemetry', 'session', 'carrier', 'camera', 'buttons', 'leds', 'engine']) {
      expect(agent.lines.some((l) => l.msg === 'stopped' && l.component === component), component).toBe(true);
    }
    expect(agent.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);

    // Biometric data never reaches the log: not the reference photo (raw, base64, inside the request JWS), not its
    // template, no image-sized blobs, no embedding-like number arrays, no unredacted biometric field.
    const engine = new FaceEngine();
    await engine.start();
    const template = await referenceTemplate(engine, await extractJpegFrame(CLIP, -1));
    await engine.stop();
    expect(template.ok).toBe(true);
    const values = template.ok ? Object.values(template.template).flatMap((v) => [...v.subarray(0, 4)]) : [];
    expect(findBiometricLeaks(agent.raw, { reference, requestJws, templateValues: values, allowed: [jws] })).toEqual([]);
    expect(agent.lines.length).toBeGreaterThan(50);

    // The session's numeric trace is kept on the terminal (0600) and reads back with `regterm trace`; it holds the
    // numbers the decision used and nothing biometric.
    const traceFile = join(dir, 'state', 'traces', `${request.sessionId}.json`);
    expect(statSync(traceFile).mode & 0o777).toBe(0o600);
    const shown = await run(process.execPath, [REGTERM, 'trace', request.sessionId, '--json'],
      { encoding: 'utf8', env: { ...process.env, REGTERM_STATE_DIR: join(dir, 'state') } });
    const trace = JSON.parse(shown.stdout) as { decision: { decision: string }; points: Array<Record<string, number>>;
      marks: Array<{ kind: string; label: string }>; thresholds: Record<string, number> };
    expect(trace.decision.decision).toBe('match');
    expect(trace.points.filter((p) => p.yaw !== undefined).length).toBeGreaterThan(30);
    expect(trace.marks).toContainEqual(expect.objectContaining({ kind: 'challenge_passed', label: 'turn_left' }));
    expect(trace.thresholds.turnDeg).toBeGreaterThan(0);
    // on the session's time axis: the turn's frames lie between its challenge's start and its pass
    const started = trace.marks.find((m) => m.kind === 'challenge_started')!;
    expect(trace.points.some((p) => p.tS >= (started as unknown as { tS: number }).tS)).toBe(true);
    // when the answering turn started (what `regterm trace --reactions` reads): after the prompt, before the pass
    const at = (kind: string): number => (trace.marks.find((m) => m.kind === kind && m.label === 'turn_left') as unknown as { tS: number }).tS;
    expect(at('answer_started')).toBeGreaterThan(at('challenge_started'));
    expect(at('answer_started')).toBeLessThan(at('challenge_passed'));
    expect(findBiometricLeaks(readFileSync(traceFile, 'utf8'), { reference, requestJws, templateValues: values, allowed: [] })).toEqual([]);
  }, 240_000);

  it('SIGTERM during a session: the cancelled result is signed, delivered and acknowledged within the drain budget', async () => {
    const { topics } = rig;
    const notify2 = rig.notifySocket('notify2');
    agent = rig.spawnAgent({ NOTIFY_SOCKET: notify2.path });
    await until(() => notify2.states.includes('READY=1'), 60_000, `READY=1 (stderr: ${agent.stderr})`);
    const request = buildSessionRequest({ deviceId: DEVICE, reference: { format: 'jpeg', data: await extractJpegFrame(CLIP, -1) },
      ttlS: 300, policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
    await carrier.publish(topics.request, await signSessionRequest(request, carrierKey.privateKey, await keyId(carrierKey.publicKey)));
    await carrier.until(() => carrier.messages.some((m) => m.topic === topics.progress(request.sessionId)), 30_000, 'the session to start');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });

    expect(carrier.results.has(request.sessionId)).toBe(true);
    const jwsFile = join(dir, 'cancelled.jws');
    writeFileSync(jwsFile, carrier.results.get(request.sessionId)![0]!);
    const verified = await run(process.execPath, [REGTERM, 'verify-result', '--key', devicePub, jwsFile], { encoding: 'utf8' });
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, payload: { sessionId: request.sessionId, decision: 'cancelled', decidedBy: 'agent' } });
    // a restart skips the rest of the previous run's reserved seq block (src/carrier/seq-floor.ts)
    expect(JSON.parse(verified.stdout).payload.seq).toBeGreaterThan(1);
    const order = agent.lines.map((l) => (l.msg === 'stopped' ? `stopped ${String(l.component)}` : String(l.msg)));
    expect(order.indexOf('result acknowledged')).toBeGreaterThan(order.indexOf('stopped session'));
    expect(order.indexOf('result acknowledged')).toBeLessThan(order.indexOf('stopped carrier'));
    expect(agent.leftovers().filter((p) => !p.includes('<defunct>'))).toEqual([]);
  }, 120_000);
});
