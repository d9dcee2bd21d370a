import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, PRIVATE_KEY_FILE } from '../../../src/device/identity.ts';
import { freePort } from '../carrier/helpers/mosquitto.ts';
import { AgentProcess, NotifySocket, until } from './agent-process.ts';
import { DEMO_CLIP } from '../../../src/compose/demo/asset.ts';

/**
 * `regterm run` health and failure paths as a real process: the watchdog is not fed while the broker cannot be
 * reached, and a camera that cannot be opened fails the start with a non-zero exit (systemd restarts it) after
 * stopping what had started.
 */
let dir = '';
const agents: AgentProcess[] = [];
const sockets: NotifySocket[] = [];

async function config(name: string, over: Record<string, unknown>): Promise<string> {
  const home = join(dir, name);
  await createIdentity(join(home, 'identity'));
  mkdirSync(join(home, 'keys'));
  writeFileSync(join(home, 'keys', 'carrier.pem'), generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
  const path = join(home, 'config.json');
  writeFileSync(path, JSON.stringify({
    deviceId: name, stateDir: join(home, 'state'), panel: { backend: 'sim' },
    camera: { backend: 'replay', recording: DEMO_CLIP, pace: 'fast' },
    // nothing listens on this port: the link keeps retrying with backoff
    mqtt: { url: `mqtt://127.0.0.1:${await freePort()}`, reconnectMinMs: 200, reconnectMaxMs: 1000 },
    carrier: { keysDir: join(home, 'keys') }, identity: { signingKeyFile: join(home, 'identity', PRIVATE_KEY_FILE) },
    ...over,
  }));
  return path;
}

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'regterm-health-')); });
afterAll(() => {
  for (const a of agents) a.killGroup();
  for (const s of sockets) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('regterm run health and failure paths', () => {
  it('stops feeding the watchdog while the broker is unreachable, and says why', async () => {
    const notify = new NotifySocket(join(dir, 'notify.sock'));
    sockets.push(notify);
    const agent = new AgentProcess(['run', '--config', await config('term-nobroker', { health: { brokerMaxAgeMs: 1500 } })],
      { PATH: process.env.PATH, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '500000' });
    agents.push(agent);
    await until(() => notify.states.includes('READY=1'), 60_000, `READY=1 (${agent.stderr})`);
    await until(() => agent.hasLog('unhealthy: watchdog not fed'), 5000, 'the unhealthy report');
    const fed = notify.states.filter((s) => s === 'WATCHDOG=1').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(notify.states.filter((s) => s === 'WATCHDOG=1').length).toBe(fed);
    const report = agent.lines.find((l) => l.msg === 'unhealthy: watchdog not fed');
    expect(report?.reasons).toEqual([expect.stringMatching(/^link: never reached the broker for \d+ ms$/)]);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it('exits non-zero when the camera cannot be opened, after stopping what started', async () => {
    const agent = new AgentProcess(['run', '--config', await config('term-nocam', { camera: { backend: 'replay', recording: join(dir, 'missing') } })],
      { PATH: process.env.PATH });
    agents.push(agent);
    const exit = await agent.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const failed = agent.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('start failed:'));
    expect(failed?.msg).toMatch(/missing/);
    for (const component of ['engine', 'leds', 'buttons']) {
      expect(agent.lines.some((l) => l.msg === 'stopped' && l.component === component), component).toBe(true);
    }
    expect(agent.lines.at(-1)).toMatchObject({ msg: 'agent stopped', exitCode: exit.code });
    expect(agent.stderr).toBe('');
  }, 90_000);
});
