/**
 * `regterm doctor` checks what the agent would use: the layered configuration (config.json < conf.d < REGTERM_*
 * environment, as `regterm config` shows it), not only its flags. A real process on a config that names a replay
 * camera on the bundled clip, the sim panel and a state directory of its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIP } from '../../../src/compose/demo/asset.ts';
import { recordAttack } from '../../attacks/table.ts';

const BIN = new URL('../../../bin/regterm.js', import.meta.url).pathname;
let dir = '';
let configFile = '';

interface Check { check: string; status: string; detail: string }

function doctor(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; checks: Record<string, Check>; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, 'doctor', ...args, '--skip-models', '--seconds', '1', '--json'], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env },
  });
  const report = JSON.parse(run.stdout || '{"checks":[]}') as { checks: Check[] };
  return { status: run.status, checks: Object.fromEntries(report.checks.map((c) => [c.check, c])), stderr: run.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-doctor-config-'));
  mkdirSync(join(dir, 'state'));
  mkdirSync(join(dir, 'conf.d'));
  configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    stateDir: join(dir, 'state'),
    camera: { backend: 'replay', recording: DEMO_CLIP, pace: 'fast', width: 320, height: 320, fps: 30 },
  }));
  writeFileSync(join(dir, 'conf.d', '10-site.json'), JSON.stringify({ panel: { backend: 'sim', leds: { look: 17 }, buttons: { start: 6 } } }));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('regterm doctor reads the installed configuration', () => {
  it('checks the configured camera, panel and state directory, and says which layers it read', () => {
    const d = doctor(['--config', configFile]);
    expect(d.stderr).toBe('');
    expect(d.checks.config).toMatchObject({ status: 'pass' });
    expect(d.checks.config.detail).toContain(configFile);
    expect(d.checks.config.detail).toContain('10-site.json');
    expect(d.checks.camera.status).toBe('pass');
    expect(d.checks.camera.detail).toMatch(new RegExp(`^replay ${DEMO_CLIP}: \\d+ frames`));
    expect(d.checks['camera resolution'].detail).toMatch(/^320x320/);
    expect(Object.keys(d.checks)).toEqual(expect.arrayContaining(['led look', 'button start']));
    expect(Object.keys(d.checks)).not.toContain('led blink'); // conf.d's pin map, not the defaults
    expect(d.checks.disk.detail).toContain(join(dir, 'state'));
    expect(d.status).toBe(0);
  });

  it('lets the environment layer and flags override the file', () => {
    const d = doctor(['--config', configFile, '--camera', 'none', '--data-dir', dir], { REGTERM_PANEL_BACKEND: 'onoff', REGTERM_PANEL_GPIO_ROOT: join(dir, 'no-gpio') });
    expect(d.checks.config.detail).toContain('env REGTERM_PANEL_BACKEND');
    expect(d.checks.camera).toMatchObject({ status: 'skip', detail: '--camera none' });
    expect(Object.values(d.checks).some((c) => c.status === 'fail' && c.detail.includes(join(dir, 'no-gpio')))).toBe(true);
    expect(d.checks.disk.detail).toMatch(new RegExp(`in ${dir}$`));
  });

  it('reports an invalid configuration as a failed check and goes on with the defaults', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ camera: { backend: 'webcam' } }));
    const d = doctor(['--config', bad, '--camera', 'none', '--panel', 'none', '--data-dir', dir]);
    recordAttack({ area: 'configuration', attack: 'doctor on a config.json with an unknown camera backend',
      expected: 'config row fail naming camera.backend', observed: `config row ${d.checks.config.status}${/camera\.backend/.test(d.checks.config.detail) ? ' naming camera.backend' : ''}` });
    expect(d.checks.config.status).toBe('fail');
    expect(d.checks.config.detail).toMatch(/camera\.backend/);
    expect(d.checks.clock).toBeDefined();
    expect(d.status).toBe(1);
  });
});
