import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ReplaySource } from '../../../src/camera/replay-source.ts';
import { loadRecording } from '../../../src/camera/recording.ts';
import { checkClock, checkDisk, checkModels, formatTable, run as doctor } from '../../../src/cli/doctor.ts';
import { run as record } from '../../../src/cli/record.ts';
import { isUsageError } from '../../../src/lib/errors.ts';
import { gpiodSim } from '../../unit/panel/gpiod-sim.ts';
import { describeWithFaceData } from '../../face-data.ts';
import { DATA, FAKE_RPICAM, logSink } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'regterm-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/sysfs/${name}`, import.meta.url));

async function cli(cmd: typeof record, argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const stdout = new Writable({
    write(c: Buffer, _e, cb) {
      out += c.toString();
      cb();
    },
  });
  const code = await cmd({ argv, stdout, stderr: stdout, env: { LOG_LEVEL: 'silent' } });
  return { code, out };
}

// The fake rpicam-vid without FAKE_RPICAM_VIDEO plays ffmpeg's test pattern: no face data involved.
const CAM = ['--rpicam-bin', FAKE_RPICAM, '--width', '320', '--height', '240', '--fps', '10'];

describe('regterm record', () => {
  it('records frames, the scheduled prompts as LED changes, and replays them', async () => {
    const out = join(tmp, 'rec');
    const r = await cli(record, ['--out', out, '--seconds', '1.5', ...CAM, '--panel', 'sim', '--prompts', 'look_at_camera@0,turn_left@0.6']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out) as { frames: number; prompts: number };
    const rec = await loadRecording(out);
    expect(rec.frames.count).toBe(summary.frames);
    expect(rec.frames.count).toBeGreaterThanOrEqual(5);
    expect(rec.prompts.slice(0, 3).map((p) => [p.led, p.on])).toEqual([['look', true], ['look', false], ['left', true]]);
    expect(rec.prompts[1].tMs).toBeGreaterThanOrEqual(600);
    const replay = new ReplaySource({ path: out, pace: 'fast', logger: logSink().logger });
    await replay.start();
    let n = 0;
    for await (const f of replay.frames()) n += f.width === 320 ? 1 : 0;
    await replay.stop();
    expect(n).toBe(rec.frames.count);
  });

  it('drives the prompts on real lines with the gpiod backend and releases them at the end', async () => {
    const sim = gpiodSim({ version: 1 });
    try {
      const out = join(tmp, 'rec-gpiod');
      const r = await cli(record, ['--out', out, '--seconds', '1', ...CAM, '--panel', 'gpiod', '--gpiod-dir', sim.dir,
        '--pins', '{"look":17,"start":6}', '--prompts', 'look_at_camera@0']);
      expect(r.code).toBe(0);
      expect((await loadRecording(out)).prompts[0]).toMatchObject({ led: 'look', on: true });
      expect(sim.argv().some(([tool, ...args]) => tool === 'gpioset' && args.includes('--mode=signal') && args.includes('17=1'))).toBe(true);
      expect(sim.out(17)).toBe(0);
      expect(sim.refused()).toEqual([]);
    } finally {
      sim.remove();
    }
  });

  describeWithFaceData('an annotated clip of the face data', ['liveportrait_driving_videos/d3.events.csv'], () => {
    it('--import builds a recording from a clip and its events CSV, in place', async () => {
      const out = join(tmp, 'd3');
      const csv = `${DATA}/liveportrait_driving_videos/d3.events.csv`;
      const r = await cli(record, ['--import', `${DATA}/liveportrait_driving_videos/d3.mp4`, '--events', csv, '--out', out]);
      expect(r.code).toBe(0);
      const rec = await loadRecording(out);
      const rows = readFileSync(csv, 'utf8').trim().split('\n').length - 1;
      expect(rec.groundTruth).toHaveLength(rows);
      expect(rec.frames).toMatchObject({ kind: 'video', file: `${DATA}/liveportrait_driving_videos/d3.mp4` });
      expect(rec.fps).toBe(30);
    });
  });

  it.each([
    [['--seconds', '1'], /--out DIR is required/],
    [['--out', join(tmp, 'x'), '--width', '321'], /must be even/],
    [['--out', join(tmp, 'x'), '--camera', 'ffmpeg'], /needs --device/],
    [['--out', join(tmp, 'x'), '--prompts', 'look_at_camera@0'], /needs a panel/],
    [['--out', join(tmp, 'x'), '--panel', 'sim', '--prompts', 'dance@1'], /not NAME@SECONDS/],
  ])('refuses bad flags %#', async (argv, msg) => {
    const err = await cli(record, argv).then(() => undefined, (e: unknown) => e);
    expect(isUsageError(err)).toBe(true);
    expect(String(err)).toMatch(msg);
  });
});

describe('regterm doctor', () => {
  it('passes with a working camera and the sim panel, and reports fps, resolution and each pin', async () => {
    const r = await cli(doctor, [...CAM, '--seconds', '1.2', '--panel', 'sim', '--pins', '{"look":17,"start":6}', '--skip-models', '--json']);
    const report = JSON.parse(r.out) as { ok: boolean; checks: Array<{ check: string; status: string; detail: string }> };
    expect(r.code).toBe(0);
    expect(report.ok).toBe(true);
    const by = Object.fromEntries(report.checks.map((c) => [c.check, c]));
    expect(by.camera.status).toBe('pass');
    expect(by['camera resolution'].detail).toMatch(/^320x240/);
    expect(by['camera fps'].detail).toMatch(/measured \(asked 10\)/);
    expect(Object.keys(by)).toEqual(expect.arrayContaining(['led look', 'button start', 'gpio open', 'clock', 'disk']));
  });

  it('fails (exit 1) on a dead camera and an unknown board, saying why', async () => {
    const r = await cli(doctor, ['--rpicam-bin', join(tmp, 'no-such-rpicam'), '--panel', 'onoff', '--gpio-root', fixture('unknown-board'), '--skip-models']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/camera\s+FAIL\s+rpicam: camera: cannot run/);
    expect(r.out).toMatch(/gpio mapping\s+FAIL\s+unknown board/);
    expect(r.out).toMatch(/doctor: FAIL \(2 failed/);
  });

  it('maps every pin on a Pi 4 with a 6.6 kernel and fails to open where sysfs GPIO cannot be written', async () => {
    const r = await cli(doctor, ['--camera', 'none', '--panel', 'onoff', '--gpio-root', fixture('pi4-kernel6.6'), '--pins', '{"look":17,"cancel":13}', '--skip-models', '--json']);
    const report = JSON.parse(r.out) as { checks: Array<{ check: string; status: string; detail: string }> };
    expect(report.checks.find((c) => c.check === 'led look')?.detail).toMatch(/BCM 17 → sysfs 529 \(pinctrl-bcm2711/);
    expect(report.checks.find((c) => c.check === 'button cancel')?.detail).toMatch(/sysfs 525/);
    expect(report.checks.find((c) => c.check === 'gpio open')?.status).toBe('fail');
  });

  it('with the gpiod backend names the chip line and bias of each pin, opens every line and leaves no tool running', async () => {
    const sim = gpiodSim({ version: 1 });
    try {
      const r = await cli(doctor, ['--camera', 'none', '--panel', 'gpiod', '--gpiod-dir', sim.dir, '--pins', '{"look":17,"cancel":13}', '--skip-models', '--json']);
      const report = JSON.parse(r.out) as { checks: Array<{ check: string; status: string; detail: string }> };
      const by = Object.fromEntries(report.checks.map((c) => [c.check, c]));
      expect(by['led look'].detail).toBe('BCM 17 → gpiochip4 line 17 (pinctrl-rp1, Raspberry Pi 5/CM5; libgpiod v1 tools)');
      expect(by['button cancel'].detail).toMatch(/BCM 13 → gpiochip4 line 13 .*bias pull-up/);
      expect(by['gpio open']).toMatchObject({ status: 'pass', detail: '1 LEDs and 1 buttons opened and released' });
      expect(sim.argv().map(([tool]) => tool)).toEqual(expect.arrayContaining(['gpioget', 'gpioset']));
      for (const pid of ['gpioset', 'gpiomon'].map(sim.pid).filter((p) => p !== undefined)) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
      const broken = await cli(doctor, ['--camera', 'none', '--panel', 'gpiod', '--gpiod-dir', join(tmp, 'no-tools'), '--skip-models']);
      expect(broken.code).toBe(1);
      expect(broken.out).toMatch(/gpio mapping\s+FAIL\s+gpioset --version: cannot run .*ENOENT.*apt install gpiod/);
    } finally {
      sim.remove();
    }
  });

  it('checks: clock before 2025 fails; a missing manifest fails; a state dir not made yet is measured where it would be; the table names the verdict', async () => {
    expect((await checkClock(0))[0]).toMatchObject({ status: 'fail' });
    expect((await checkClock())[0].status).not.toBe('fail');
    const missing = (await checkDisk(join(tmp, 'missing', 'state')))[0];
    expect(missing.status).not.toBe('fail');
    expect(missing.detail).toMatch(new RegExp(`free in ${tmp} \\(${join(tmp, 'missing', 'state')} does not exist yet\\)$`));
    expect((await checkDisk(tmp))[0].status).not.toBe('fail');
    expect((await checkModels(join(tmp, 'no-manifest.json')))[0]).toMatchObject({ check: 'models', status: 'fail' });
    expect(formatTable([{ check: 'x', status: 'warn', detail: 'd' }])).toMatch(/doctor: PASS \(1 warnings\)/);
  });
});
