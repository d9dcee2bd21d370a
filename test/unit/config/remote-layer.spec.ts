import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REMOTE_LAYER_FILE, loadConfigLayers, type LoadConfigOptions } from '../../../src/config/load.ts';
import {
  LAST_FAILED_FILE, LAST_GOOD_FILE, MAX_BOOT_ATTEMPTS, beginRemoteBoot, configHash, confirmRemoteBoot, persistRemoteLayer, planRemoteChange,
  readRemoteLayer, rollBackInvalidLayer,
} from '../../../src/config/remote-layer.ts';

let dir = '';
let stateDir = '';
let layers: LoadConfigOptions;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-remote-'));
  stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ deviceId: 'term-r', stateDir }));
  layers = { file, env: {} };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const plan = (version: number, config: Record<string, unknown>) =>
  planRemoteChange(layers, loadConfigLayers(layers), readRemoteLayer(stateDir), { version, config });

describe('remote configuration: what a desired configuration means for the running agent', () => {
  it('splits a change into keys that change live and keys that need a restart', () => {
    const p = plan(1, { log: { level: 'debug' }, session: { policy: { challenges: { count: 2 } } }, camera: { fps: 20 } });
    expect(p.kind).toBe('apply');
    if (p.kind !== 'apply') return;
    expect(p.live.sort()).toEqual(['log.level', 'session.policy']);
    expect(p.restart).toEqual(['camera.fps']);
    expect(p.next.config.camera.fps).toBe(20);
    expect(p.next.sources['log.level']).toBe('remote v1');
    expect(p.hash).toBe(configHash({ camera: { fps: 20 }, session: { policy: { challenges: { count: 2 } } }, log: { level: 'debug' } }));
  });

  it('lists every schema problem and refuses keys that name the device, its files or a program', () => {
    const bad = plan(1, { camera: { fps: 0, lens: 'x' }, log: { level: 'loud' } });
    expect(bad).toMatchObject({ kind: 'refused', reason: 'invalid' });
    if (bad.kind === 'refused') expect(bad.problems.length).toBeGreaterThanOrEqual(3);
    const forbidden = plan(1, { camera: { rpicamBin: '/bin/sh' }, deviceId: 'other', identity: { signingKeyFile: '/tmp/k' } });
    expect(forbidden).toMatchObject({ kind: 'refused', reason: 'forbidden_key' });
    if (forbidden.kind === 'refused') {
      expect(forbidden.problems).toEqual(['camera.rpicamBin: not settable remotely', 'deviceId: not settable remotely',
        'identity.signingKeyFile: not settable remotely']);
    }
    const tools = plan(1, { panel: { backend: 'gpiod', gpiodToolsDir: '/tmp/evil' } });
    expect(tools).toMatchObject({ kind: 'refused', reason: 'forbidden_key', problems: ['panel.gpiodToolsDir: not settable remotely'] });
  });

  it('treats the retained copy of the applied version as unchanged, and refuses an older or reused version', () => {
    persistRemoteLayer(stateDir, { version: 5, config: { log: { level: 'warn' } } }, false);
    expect(plan(5, { log: { level: 'warn' } })).toEqual({ kind: 'unchanged' });
    expect(plan(5, { log: { level: 'error' } })).toMatchObject({ kind: 'refused', reason: 'version_reused' });
    expect(plan(4, { log: { level: 'error' } })).toMatchObject({ kind: 'refused', reason: 'stale_version' });
    expect(plan(6, { log: { level: 'error' } })).toMatchObject({ kind: 'apply', live: ['log.level'], restart: [] });
  });
});

describe('remote configuration: persistence, restart and rollback', () => {
  it('a live change is confirmed at once and becomes the last good layer; files are 0600', () => {
    persistRemoteLayer(stateDir, { version: 2, config: { log: { level: 'debug' } } }, false);
    expect(readRemoteLayer(stateDir)).toMatchObject({ version: 2, confirmed: true });
    expect(readRemoteLayer(stateDir, LAST_GOOD_FILE)).toMatchObject({ version: 2 });
    expect(statSync(join(stateDir, REMOTE_LAYER_FILE)).mode & 0o777).toBe(0o600);
    expect(loadConfigLayers(layers).config.log.level).toBe('debug');
  });

  it('a restart change that reaches READY is confirmed and becomes the last good layer', () => {
    persistRemoteLayer(stateDir, { version: 1, config: { camera: { fps: 20 } } }, true);
    expect(existsSync(join(stateDir, LAST_GOOD_FILE))).toBe(false);
    expect(beginRemoteBoot(stateDir)).toMatchObject({ layer: { version: 1, attempts: 1, confirmed: false } });
    confirmRemoteBoot(stateDir);
    expect(readRemoteLayer(stateDir)).toMatchObject({ version: 1, confirmed: true, attempts: 0 });
    expect(readRemoteLayer(stateDir, LAST_GOOD_FILE)).toMatchObject({ version: 1 });
    expect(beginRemoteBoot(stateDir).rolledBack).toBeUndefined();
  });

  it('a restart change that never reaches READY is replaced by the last good layer after its attempts', () => {
    persistRemoteLayer(stateDir, { version: 1, config: { camera: { fps: 20 } } }, false);
    persistRemoteLayer(stateDir, { version: 2, config: { camera: { fps: 30 } } }, true);
    for (let i = 0; i < MAX_BOOT_ATTEMPTS; i++) expect(beginRemoteBoot(stateDir).rolledBack).toBeUndefined();
    const outcome = beginRemoteBoot(stateDir);
    expect(outcome.rolledBack).toEqual({ version: 2, hash: configHash({ camera: { fps: 30 } }), reason: 'did_not_reach_ready' });
    expect(outcome.layer).toMatchObject({ version: 1, confirmed: true });
    expect(loadConfigLayers(layers).config.camera.fps).toBe(20);
  });

  it('with no last good layer a failed one is removed, and a layer the schema refuses is rolled back', () => {
    persistRemoteLayer(stateDir, { version: 3, config: { camera: { fps: 30 } } }, true);
    for (let i = 0; i <= MAX_BOOT_ATTEMPTS; i++) beginRemoteBoot(stateDir);
    expect(existsSync(join(stateDir, REMOTE_LAYER_FILE))).toBe(false);

    persistRemoteLayer(stateDir, { version: 4, config: { log: { level: 'warn' } } }, false);
    writeFileSync(join(stateDir, REMOTE_LAYER_FILE), JSON.stringify({ version: 5, config: { camera: { fps: 'fast' } } }));
    expect(() => loadConfigLayers(layers)).toThrow(/camera\.fps \(remote v5\)/);
    expect(rollBackInvalidLayer(stateDir)).toMatchObject({ layer: { version: 4 }, rolledBack: { version: 5, reason: 'invalid' } });
    expect(JSON.parse(readFileSync(join(stateDir, REMOTE_LAYER_FILE), 'utf8'))).toMatchObject({ version: 4 });
    expect(loadConfigLayers(layers).config.log.level).toBe('warn');
  });
});

describe('remote configuration: a rolled-back version is not applied again', () => {
  it('refuses the failed version (still retained at the broker) and older ones, and takes a newer one', () => {
    persistRemoteLayer(stateDir, { version: 1, config: { camera: { fps: 20 } } }, false);
    persistRemoteLayer(stateDir, { version: 2, config: { camera: { fps: 30 } } }, true);
    for (let i = 0; i <= MAX_BOOT_ATTEMPTS; i++) beginRemoteBoot(stateDir);
    const failed = readRemoteLayer(stateDir, LAST_FAILED_FILE);
    expect(failed).toMatchObject({ version: 2 });
    const again = (version: number) => planRemoteChange(layers, loadConfigLayers(layers), readRemoteLayer(stateDir), { version, config: { camera: { fps: 30 } } }, failed);
    expect(again(2)).toMatchObject({ kind: 'refused', reason: 'rolled_back_before' });
    expect(again(3)).toMatchObject({ kind: 'apply', restart: ['camera.fps'] });
  });
});
