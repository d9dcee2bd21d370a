/**
 * HIL: `regterm replay` as a field engineer runs it (child process, real clips read in place), and its HTML report
 * opened in headless Chromium (Debian `chromium`): the page loads, its script runs, and it shows the timeline.
 * Reports hold face thumbnails: they are written to a tmp dir that is removed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATA } from '../vision/helpers.ts';
import { describeWithFaceData } from '../../face-data.ts';

const exec = promisify(execFile);
const DAGAN = join(DATA, 'dagan_driving_video', 'driving.mp4');
const D18 = join(DATA, 'liveportrait_driving_videos', 'd18.mp4');
let tmp = '';
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'regterm-replay-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function regterm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec('node', ['bin/regterm.js', ...args], { maxBuffer: 16 << 20 });
    return { code: 0, ...r };
  } catch (e: unknown) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** The DOM after load, from headless Chromium (no network, throwaway profile). */
async function chromiumDom(file: string): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'regterm-chromium-'));
  try {
    const { stdout } = await exec('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`,
    ], { maxBuffer: 32 << 20, timeout: 60_000 });
    return stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

describeWithFaceData('regterm replay', ['dagan_driving_video', 'liveportrait_driving_videos'], () => {
  it('--events-only --json on the DaGAN clip: the annotated left turn (2.32-3.12 s) and blink (6.76-6.92 s), with times', async () => {
    const report = join(tmp, 'events.html');
    const r = await regterm('replay', DAGAN, '--events-only', '--json', '--report', report);
    expect(r.code).toBe(0);
    const { events } = JSON.parse(r.stdout) as { events: Array<{ type: string; startS: number; endS: number }> };
    const turns = events.filter((e) => e.type.startsWith('turn_'));
    expect(turns).toHaveLength(1);
    expect(turns[0].type).toBe('turn_left');
    expect(turns[0].startS).toBeLessThan(3.12);
    expect(turns[0].endS).toBeGreaterThan(2.32);
    const blinks = events.filter((e) => e.type === 'blink');
    expect(blinks).toHaveLength(1);
    expect(blinks[0].startS).toBeGreaterThanOrEqual(6.66);
    expect(blinks[0].endS).toBeLessThanOrEqual(7.02);
    const dom = await chromiumDom(report);
    expect(dom).toMatch(/<body[^>]*data-ready="ok"/);
    expect(dom).toMatch(/data-lanes="[4-9]"/);
    expect(dom).toContain('turn_left');
    expect((dom.match(/data:image\/jpeg;base64,/g) ?? []).length).toBeGreaterThan(2);
  });

  it('a session with a forced script prints decision, scores and per-challenge times; the report shows it', async () => {
    const report = join(tmp, 'session.html');
    const r = await regterm('replay', D18, '--challenges', 'blink', '--json', '--report', report);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { decision: string; decidedBy: string; scores: Record<string, number>; challenges: Array<{ type: string; passed: boolean; atS: number }> };
    expect(out).toMatchObject({ decision: 'match', decidedBy: 'match' });
    expect(out.scores.match).toBeGreaterThan(2.5987);
    expect(out.challenges).toHaveLength(1);
    expect(out.challenges[0]).toMatchObject({ type: 'blink', passed: true });
    expect(out.challenges[0].atS).toBeGreaterThan(3.0);
    expect(out.challenges[0].atS).toBeLessThan(3.6);
    const html = await readFile(report, 'utf8');
    expect(html).toContain('Debug artefact');
    const dom = await chromiumDom(report);
    expect(dom).toMatch(/data-ready="ok"/);
    expect(dom).toContain('id="result"');
    expect(dom).toMatch(/class="prompt-label"[^>]*>blink \d/);
    // the blink challenge's window is shaded as passed, and the thresholds it was read against are drawn
    expect(dom).toMatch(/class="challenge-label"[^>]*>blink ✓/);
    expect(dom).toMatch(/data-label-overlaps="0"/);
    expect(dom).toMatch(/data-thresholds="[1-9]"/);
  });

  it('refuses the light challenge in a forced script with a one-line usage error', async () => {
    const r = await regterm('replay', D18, '--challenges', 'blink,light', '--json');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('light challenge');
    expect(r.stdout).toBe('');
  });
});
