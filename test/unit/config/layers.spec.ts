import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, REMOTE_LAYER_FILE, loadConfigLayers } from '../../../src/config/load.ts';

/** Configuration layers: config.json < conf.d/*.json (name order) < remote layer < REGTERM_* env < flags. */
let dir = '';
let file = '';
let stateDir = '';
const write = (path: string, value: unknown): void => writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-layers-'));
  stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  mkdirSync(join(dir, 'conf.d'));
  file = join(dir, 'config.json');
  write(file, { deviceId: 'term-7', stateDir, log: { level: 'info' }, camera: { fps: 10, width: 800 } });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('configuration layers', () => {
  it('applies each layer over the one below and names the source of every value', () => {
    write(join(dir, 'conf.d', '20-late.json'), { camera: { fps: 20 } });
    write(join(dir, 'conf.d', '10-early.json'), { camera: { fps: 12, strideAlign: 128 }, panel: { leds: { look: 4 } } });
    write(join(dir, 'conf.d', 'notes.txt'), 'not a layer');
    write(join(stateDir, REMOTE_LAYER_FILE), { version: 3, config: { log: { level: 'debug' }, panel: { leds: { blink: 7 } } } });
    const { config, sources } = loadConfigLayers({ file, env: { REGTERM_TELEMETRY_INTERVAL_S: '30' } });

    expect(config.camera).toMatchObject({ fps: 20, width: 800, strideAlign: 128, height: 480 });
    expect(config.log.level).toBe('debug');
    expect(config.panel.leds).toEqual({ look: 4, blink: 7 });
    expect(config.telemetry.intervalS).toBe(30);
    expect(sources).toMatchObject({
      deviceId: file,
      'camera.fps': join(dir, 'conf.d', '20-late.json'),
      'camera.width': file,
      'camera.strideAlign': join(dir, 'conf.d', '10-early.json'),
      'camera.height': 'default',
      'log.level': 'remote v3',
      'panel.leds': `${join(dir, 'conf.d', '10-early.json')} + remote v3`,
      'telemetry.intervalS': 'env REGTERM_TELEMETRY_INTERVAL_S',
    });
  });

  it('environment beats the remote layer, and flags beat the environment', () => {
    write(join(stateDir, REMOTE_LAYER_FILE), { version: 1, config: { log: { level: 'debug' }, camera: { fps: 5 } } });
    const { config, sources } = loadConfigLayers({ file, env: { REGTERM_LOG_LEVEL: 'warn' }, overrides: { 'camera.fps': 9 } });
    expect(config.log.level).toBe('warn');
    expect(config.camera.fps).toBe(9);
    expect(sources['log.level']).toBe('env REGTERM_LOG_LEVEL');
    expect(sources['camera.fps']).toBe('flag');
  });

  it('finds the remote layer in the state directory the environment names', () => {
    const other = join(dir, 'other-state');
    mkdirSync(other);
    write(join(other, REMOTE_LAYER_FILE), { version: 2, config: { camera: { fps: 7 } } });
    expect(loadConfigLayers({ file, env: { REGTERM_STATE_DIR: other } }).config.camera.fps).toBe(7);
    expect(loadConfigLayers({ file }).config.camera.fps).toBe(10);
  });

  it('reports every problem at once, naming the layers that set the bad key', () => {
    write(join(dir, 'conf.d', '10-site.json'), { camera: { fps: 500 }, camera_typo: 1 });
    write(join(dir, 'conf.d', '20-broken.json'), '{ not json');
    write(join(stateDir, REMOTE_LAYER_FILE), { config: {} });
    let error: unknown;
    try {
      loadConfigLayers({ file, env: { REGTERM_CAMERA_FPS: '0' } });
    } catch (e: unknown) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain(`camera.fps (${file}, ${join(dir, 'conf.d', '10-site.json')}, env REGTERM_CAMERA_FPS)`);
    expect(problems).toContain('camera_typo');
    expect(problems).toContain(`${join(dir, 'conf.d', '20-broken.json')}:`);
    expect(problems).toContain(`${join(stateDir, REMOTE_LAYER_FILE)}: must hold { "version": integer, "config": object }`);
  });

  it('without conf.d or a remote layer the file and defaults are all there is', () => {
    rmSync(join(dir, 'conf.d'), { recursive: true });
    const { config, sources } = loadConfigLayers({ file });
    expect(config.camera.fps).toBe(10);
    expect(Object.values(sources).every((s) => s === file || s === 'default')).toBe(true);
  });
});

describe('configuration layers: hostile keys', () => {
  it('refuses a __proto__ key instead of changing any prototype', () => {
    write(join(dir, 'conf.d', '10-evil.json'), '{"__proto__": {"polluted": true}, "camera": {"__proto__": {"fps": 99}}}');
    expect(() => loadConfigLayers({ file })).toThrow(/__proto__ \(.*10-evil\.json\): not a configuration key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
