import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configLeaves, configReference, envName, loadConfig } from '../../../src/config/load.ts';

const TMP = mkdtempSync(join(tmpdir(), 'regterm-config-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

let files = 0;
function configFile(content: string): string {
  const file = join(TMP, `config-${++files}.json`);
  writeFileSync(file, content);
  return file;
}

describe('loadConfig', () => {
  it('gives every key a default and a doc', () => {
    const config = loadConfig();
    expect(config.camera.backend).toBe('replay');
    expect(config.mqtt.protocolVersion).toBe(5);
    for (const leaf of configLeaves()) expect(leaf.schema.description, leaf.path.join('.')).toBeTruthy();
  });

  it('derives env names from the schema path', () => {
    expect(envName(['mqtt', 'reconnectMaxMs'])).toBe('REGTERM_MQTT_RECONNECT_MAX_MS');
    expect(envName(['deviceId'])).toBe('REGTERM_DEVICE_ID');
  });

  it('layers defaults < file < env < flags and parses env values by type', () => {
    const file = configFile(JSON.stringify({ camera: { fps: 10, width: 1280 }, deviceId: 'from-file' }));
    const config = loadConfig({
      file,
      env: { REGTERM_CAMERA_FPS: '25', REGTERM_PANEL_BUTTONS_ACTIVE_LOW: 'false', REGTERM_PANEL_LEDS: '{"look":4}' },
      overrides: { deviceId: 'from-flag' },
    });
    expect(config.camera).toMatchObject({ fps: 25, width: 1280, height: 480 });
    expect(config.panel.buttonsActiveLow).toBe(false);
    expect(config.panel.leds).toEqual({ look: 4 });
    expect(config.deviceId).toBe('from-flag');
  });

  it('reports every problem at once, naming the env variable', () => {
    const file = configFile(JSON.stringify({ camera: { fps: 'fast', lens: 'wide' }, mqtt: { protocolVersion: 3 } }));
    let error: unknown;
    try {
      loadConfig({ file, env: { REGTERM_DEVICE_ID: 'bad/id' } });
    } catch (e: unknown) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/camera\.fps/);
    expect(problems).toMatch(/lens/);
    expect(problems).toMatch(/mqtt\.protocolVersion/);
    expect(problems).toMatch(/deviceId \(env REGTERM_DEVICE_ID\)/);
  });

  it('rejects a file that is not JSON with the file name', () => {
    const file = configFile('{ not json');
    expect(() => loadConfig({ file })).toThrow(new RegExp(file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  });

  it('returns a frozen object', () => {
    const config = loadConfig();
    expect(Object.isFrozen(config.mqtt)).toBe(true);
  });

  it('renders a reference table with one row per key', () => {
    expect(configReference().split('\n')).toHaveLength(configLeaves().length + 2);
  });
});
