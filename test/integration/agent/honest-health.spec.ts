import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { readPublicKey } from '../../../src/carrier/keys.ts';
import { REFERENCE } from '../../unit/carrier/helpers.ts';
import { recordAttack } from '../../attacks/table.ts';
import { until, type AgentProcess, type NotifySocket } from './agent-process.ts';
import { AgentRig, NO_CAMERA } from './agent-rig.ts';

/**
 * Honest health with the agent as a real process: an unplugged camera and a broker outage make the terminal
 * `degraded` (retained status with reasons, sessions refused as `camera_unavailable`) while the systemd watchdog keeps
 * being fed — a restart cannot plug a camera in or bring a network back — and a hung event loop stops the feeding, so
 * systemd restarts the agent. The watchdog period is shortened (WATCHDOG_USEC 0.5 s, fed every 0.25 s) so an outage of
 * 15 s spans 60 watchdog periods and 15 reconnect attempts.
 */
const DEVICE = 'term-health';
const rig = new AgentRig({ deviceId: DEVICE, carrierListener: true, config: () => ({ log: undefined, camera: NO_CAMERA,
  mqtt: { reconnectMinMs: 200, reconnectMaxMs: 1000 }, carrier: { drainBudgetMs: 500 }, telemetry: undefined,
  health: { frameMaxAgeMs: 1000, brokerMaxAgeMs: 2000 } }) });
const { topics } = rig;

beforeAll(() => rig.start());
afterAll(() => rig.close());

function startAgent(name: string, env: NodeJS.ProcessEnv = {}): { agent: AgentProcess; notify: NotifySocket } {
  const notify = rig.notifySocket(name);
  const agent = rig.spawnAgent({ NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '500000', ...env });
  return { agent, notify };
}

const fed = (n: NotifySocket): number => n.states.filter((s) => s === 'WATCHDOG=1').length;
const lastStatus = (): Record<string, unknown> | undefined => {
  const m = rig.carrier.messages.filter((x) => x.topic === topics.status).at(-1);
  return m ? (JSON.parse(m.payload) as Record<string, unknown>) : undefined;
};

describe('honest health: degraded, not a restart loop', () => {
  it('an unplugged camera and a broker outage leave the watchdog fed; the status says why; sessions are refused', async () => {
    const { carrier, mosquitto } = rig;
    const { agent, notify } = startAgent('degraded');
    await until(() => notify.states.includes('READY=1'), 60_000, `READY=1 (${agent.stderr})`);
    await carrier.until(() => lastStatus()?.state === 'degraded', 15_000, 'a degraded status');
    expect(lastStatus()).toMatchObject({ state: 'degraded', reasons: ['camera_unavailable'], deviceId: DEVICE });

    // a session cannot work without a camera: refused with that reason, on the session's own level
    const request = buildSessionRequest({ deviceId: DEVICE, sessionId: 's-nocam', reference: REFERENCE, ttlS: 60 });
    await carrier.publish(topics.request, await rig.sign(request));
    await carrier.until(() => carrier.results.has('s-nocam'), 15_000, 'the answer');
    const { payload } = await compactVerify(carrier.results.get('s-nocam')![0]!, readPublicKey(rig.devicePublicKeyFile));
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
    // a real hang inside the agent process, started once it is READY and feeding the watchdog (a timer from process
    // start would race the start-up on a loaded machine): on SIGUSR2 a handler spins forever on the event loop
    const hang = join(rig.dir, 'hang.mjs');
    writeFileSync(hang, "process.on('SIGUSR2', () => { for (;;) { /* hung */ } });\n");
    const { agent, notify } = startAgent('hung', { NODE_OPTIONS: `--import ${hang}` });
    await until(() => notify.states.includes('READY=1'), 60_000, `READY=1 (${agent.stderr})`);
    await until(() => fed(notify) >= 4, 10_000, 'the watchdog fed');
    agent.child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 2000)); // the hang has begun
    const after = fed(notify);
    await new Promise((r) => setTimeout(r, 2000)); // four watchdog periods
    expect(fed(notify)).toBe(after);
    expect(agent.child.exitCode).toBeNull(); // still there, hung: systemd's watchdog (WatchdogSec) kills it
    recordAttack({ area: 'health', attack: 'agent event loop hung', expected: 'watchdog not fed', observed: fed(notify) === after ? 'watchdog not fed' : 'fed' });
    agent.killGroup();
  }, 90_000);
});
