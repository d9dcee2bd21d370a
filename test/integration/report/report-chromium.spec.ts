import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../../src/session/report-svg.ts';
import { sampleTrace } from '../../fixtures/session/trace.ts';

/**
 * The session report as a person sees it: rendered by headless Chromium (Debian `chromium`, no network, throwaway
 * profile), then read back twice: the DOM after its self-check script ran (labels drawn, none overlapping) and a
 * screenshot in which the threshold lines must appear as long horizontal runs of their colour.
 */
const exec = promisify(execFile);
const THRESHOLD_RGB = [0xd5, 0x00, 0xf9];
const CHROMIUM = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

let dir = '';
let page = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regterm-report-'));
  page = join(dir, 'trace.html');
  await writeFile(page, renderReport({ title: 'trace s-1', notes: [] }, sampleTrace(), []));
});
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

async function chromium(args: string[]): Promise<string> {
  const profile = await mkdtemp(join(dir, 'profile-'));
  const { stdout } = await exec('chromium', [...CHROMIUM, `--user-data-dir=${profile}`, ...args], { maxBuffer: 32 << 20, timeout: 60_000 });
  return stdout;
}

/** Rows of the screenshot where the threshold colour covers a long stretch (a dashed line across a lane). */
async function thresholdRows(png: string): Promise<number[]> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rows: number[] = [];
  for (let y = 0; y < info.height; y++) {
    let hits = 0;
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 3;
      if (Math.abs(data[i] - THRESHOLD_RGB[0]) < 40 && data[i + 1] < 60 && Math.abs(data[i + 2] - THRESHOLD_RGB[2]) < 40) hits++;
    }
    if (hits > 400) rows.push(y);
  }
  // a 2 px line covers 2-3 adjacent rows: count lines, not rows
  return rows.filter((y, i) => i === 0 || y - rows[i - 1] > 3);
}

describe('session report in headless Chromium', () => {
  it('runs its self-check: five threshold lines with visible labels, prompt labels that do not overlap', async () => {
    const dom = await chromium(['--dump-dom', `file://${page}`]);
    const body = /<body([^>]*)>/.exec(dom)?.[1] ?? '';
    expect(body).toContain('data-ready="ok"');
    expect(body).toContain('data-thresholds="5"');
    expect(body).toContain('data-threshold-labels-shown="5"');
    expect(body).toContain('data-prompt-labels="3"');
    expect(body).toContain('data-label-overlaps="0"');
    for (const label of ['turn +20° (from frontal)', 'closed below 0.3', 'spoof below 0.29', 'blink ✓', 'turn_left ✗', 'look 0.10 s']) {
      expect(dom).toContain(label);
    }
  });

  it('shows the threshold lines on screen', async () => {
    const png = join(dir, 'shot.png');
    await chromium(['--window-size=1100,1800', '--hide-scrollbars', `--screenshot=${png}`, `file://${page}`]);
    const lines = await thresholdRows(png);
    expect(lines).toHaveLength(5);
  });
});
