import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { Topics } from '../../../src/carrier/protocol.ts';
import { createIdentity, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { REFERENCE } from '../../unit/carrier/helpers.ts';
import { recordAttack } from '../../attacks/table.ts';
import { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import { Mosquitto, freePort } from '../carrier/helpers/mosquitto.ts';
import { createPki } from '../carrier/helpers/pki.ts';
import { AgentProcess, NotifySocket, until } from './agent-process.ts';

/**
 * Honest health with the agent as a real process: an unplugged camera and a broker outage make the terminal
 * `degraded` (retained status with reasons, sessions refused as `camera_unavailable`) while the systemd watchdog keeps
 * being fed — a restart cannot plug a camera in or bring a network back — and a hung event loop stops the feeding, so
 * systemd restarts the agent. The watchdog period is shortened (WATCHDOG_USEC 0.5 s, fed every 0.25 s) so an outage of
 * 15 s spans 60 watchdog periods and 15 reconnect attempts.
 */
const DEVICE = 'term-health';
const NO_CAMERA = join(import.meta.dirname, '..', '..', 'fixtures', 'rpicam', 'no-camera-rpicam-vid');
const topics = new Topics(DEVICE);
const carrierKey = generateKeyPairSync('ed25519');

let dir = '';
let mosquitto: Mosquitto;
let carrier: CarrierClient;
let configPath = '';
const agents: AgentProcess[] = [];
const sockets: NotifySocket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-honest-'));
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
    deviceId: DEVICE, stateDir: join(dir, 'state'),
    camera: { backend: 'rpicam', rpicamBin: NO_CAMERA }, panel: { backend: 'sim' },
    mqtt: { url: mosquitto.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 200, reconnectMaxMs: 1000 },
    carrier: { keysDir: join(dir, 'carrier-keys'), drainBudgetMs: 500 },
    identity: { signingKeyFile: join(dir, 'identity', PRIVATE_KEY_FILE) },
    health: { frameMaxAgeMs: 1000, brokerMaxAgeMs: 2000 },
  }));
  carrier = new CarrierClient(mosquitto.carrierUrl, pki.ca, pki.client('carrier'), { autoAck: true });
  await carrier.start(`regterm/v1/${DEVICE}/#`);
});

afterAll(async () => {
  for (const a of agents) a.killGroup();
  for (const s of sockets) s.close();
  await carrier?.stop();
  await mosquitto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function startAgent(name: string, env: NodeJS.ProcessEnv = {}): { agent: AgentProcess; notify: NotifySocket } {
  const notify = new NotifySocket(join(dir, `${name}.sock`));
  sockets.push(notify);
  const agent = new AgentProcess(['run', '--config', configPath],
    { PATH: process.env.PATH, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '500000', ...env });
  agents.push(agent);
  return { agent, notify };
}

const fed = (n: NotifySocket): number => n.states.filter((s) => s === 'WATCHDOG=1').length;
const lastStatus = (): Record<string, unknown> | undefined => {
  const m = carrier.messages.filter((x) => x.topic === topics.status).at(-1);
  return m ? (JSON.parse(m.payload) as Record<string, unknown>) : undefined;
};

describe('honest health: degraded, not a restart loop', () => {
  it('an unplugged camera and a broker outage leave the watchdog fed; the status says why; sessions are refused', async () => {
    const { agent, notify } = startAgent('degraded');
    await until(() => notify.states.includes('READY=1'), 60_000, `READY=1 (${agent.stderr})`);
    await carrier.until(() => lastStatus()?.state === 'degraded', 15_000, 'a degraded status');
    expect(lastStatus()).toMatchObject({ state: 'degraded', reasons: ['camera_unavailable'], deviceId: DEVICE });

    // a session cannot work without a camera: refused with that reason, on the session's own level
    const request = buildSessionRequest({ deviceId: DEVICE, sessionId: 's-nocam', reference: REFERENCE, ttlS: 60 });
    await carrier.publish(topics.request, await signSessionRequest(request, carrierKey.privateKey, await keyId(carrierKey.publicKey)));
    await carrier.until(() => carrier.results.has('s-nocam'), 15_000, 'the answer');
    const { payload } = await compactVerify(carrier.results.get('s-nocam')![0]!, readPublicKey(join(dir, 'identity', PUBLIC_KEY_FILE)));
    const answer = JSON.parse(new TextDecoder().decode(payload)) as { decision: string; reason: string };
    expect(answer).toMatchObject({ decision: 'rejected', reason: 'camera_unavailable' });
    recordAttack({ area: 'health', attack: 'session request while the camera is unplugged',
      expected: 'signed rejected/camera_unavailable', observed: `signed ${answer.decision}/${answer.reason}` });

    // a broker outage of 60 watchdog periods: the watchdog keeps being fed, the agent keeps running
    await mosquitto.stop();
    const before = fed(notify);
    await new Promise((r) => setTimeout(r, 15_000));
    const during = fed(notify) - before;
    expect(during).toBeGreaterThanOrEqual(40);
    expect(agent.child.exitCode).toBeNull();
    expect(agent.lines.some((l) => l.msg === 'degraded' && (l.reasons as string[]).includes('broker_unreachable'))).toBe(true);
    expect(agent.hasLog('unhealthy: watchdog not fed')).toBe(false);
    recordAttack({ area: 'health', attack: 'broker down 15 s (60 watchdog periods), camera unplugged',
      expected: 'watchdog fed, degraded, no restart',
      observed: during >= 40 && agent.child.exitCode === null ? 'watchdog fed, degraded, no restart' : `${during} watchdog feeds, ${agent.child.exitCode === null ? 'running' : 'exited'}` });

    // back: the status is republished with what is still wrong
    const statuses = carrier.messages.filter((x) => x.topic === topics.status).length;
    await mosquitto.start();
    await carrier.until(() => carrier.messages.filter((x) => x.topic === topics.status).length > statuses, 20_000, 'status after the outage');
    await carrier.until(() => lastStatus()?.state === 'degraded' && (lastStatus()?.reasons as string[]).join() === 'camera_unavailable',
      15_000, 'degraded for the camera only');
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  }, 150_000);

  it('a hung event loop stops the watchdog feeding, so systemd restarts the agent', async () => {
    // a real hang inside the agent process: after 6 s a timer spins forever on the event loop
    const hang = join(dir, 'hang.mjs');
    writeFileSync(hang, 'setTimeout(() => { for (;;) { /* hung */ } }, 6000).unref();\n');
    const { agent, notify } = startAgent('hung', { NODE_OPTIONS: `--import ${hang}` });
    await until(() => notify.states.includes('READY=1'), 60_000, `READY=1 (${agent.stderr})`);
    await until(() => fed(notify) >= 4, 10_000, 'the watchdog fed');
    await new Promise((r) => setTimeout(r, 8000)); // past the hang
    const after = fed(notify);
    await new Promise((r) => setTimeout(r, 2000)); // four watchdog periods
    expect(fed(notify)).toBe(after);
    expect(agent.child.exitCode).toBeNull(); // still there, hung: systemd's watchdog (WatchdogSec) kills it
    recordAttack({ area: 'health', attack: 'agent event loop hung', expected: 'watchdog not fed', observed: fed(notify) === after ? 'watchdog not fed' : 'fed' });
    agent.killGroup();
  }, 90_000);
});
