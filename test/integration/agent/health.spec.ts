import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, PRIVATE_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { freePort } from '../carrier/helpers/mosquitto.ts';
import { AgentProcess, type NotifySocket } from './agent-process.ts';
import { DEMO_CLIP } from '../../../src/compose/demo/asset.ts';

/**
 * `regterm run` failure paths as a real process: a replay recording that cannot be opened (a configuration error,
 * not a device fault) fails the start with a non-zero exit after stopping what had started. Device faults and broker
 * outages are `degraded`, not failures: honest-health.spec.ts.
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
