import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TraceStore } from '../../../src/session/trace-store.ts';
import { sampleTrace } from '../../fixtures/session/trace.ts';

const BIN = new URL('../../../bin/regterm.js', import.meta.url).pathname;
let stateDir = '';
const regterm = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, REGTERM_STATE_DIR: stateDir } });

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'regterm-trace-cli-'));
  new TraceStore(stateDir, { keepSessions: 10, keepDays: 14, maxTotalBytes: 1e7 }).save({ ...sampleTrace(), sessionId: 'reg-0042' });
});
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('regterm trace', () => {
  it('prints a kept trace as JSON and renders it as a report without face pixels', () => {
    const json = regterm('trace', 'reg-0042', '--json');
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ sessionId: 'reg-0042', decision: { decision: 'liveness_failed' } });

    const report = join(stateDir, 'reg-0042.html');
    const html = regterm('trace', 'reg-0042', '--report', report);
    expect(html.status, html.stderr).toBe(0);
    const page = readFileSync(report, 'utf8');
    expect(page).toContain('regterm trace reg-0042: liveness_failed (challenge:turn_left)');
    expect(page).toContain('class="threshold"');
    expect(page).not.toContain('data:image');
    expect(statSync(report).mode & 0o777).toBe(0o600);
  });

  it('--reactions: how soon after each prompt the kept sessions answered, and the motions outside the window', () => {
    const json = regterm('trace', '--reactions', '--json');
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ sessions: 1, challenges: {
      blink: { answered: 1, answerStartMs: { p50: 560, p90: 560, max: 560 }, failed: 0, outsideWindowStartMs: [] },
      turn_left: { answered: 0, failed: 1, outsideWindowStartMs: [1700] },
    } });
    const text = regterm('trace', '--reactions');
    expect(text.stdout).toBe('1 session traces\nblink: 1 answered, answer started p50 560 / p90 560 / max 560 ms after the prompt; 0 failed\n'
      + 'turn_left: 0 answered; 1 failed; outside the window: 1700 ms\n');
    expect(regterm('trace', '--reactions', '--list').status).toBe(2);
  });

  it('lists the kept sessions, and says plainly when a session has no trace', () => {
    const list = regterm('trace', '--list', '--json');
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ sessionId: string }>).map((e) => e.sessionId)).toEqual(['reg-0042']);
    const missing = regterm('trace', 'reg-9999');
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe(`regterm: no trace kept for session 'reg-9999' in ${join(stateDir, 'traces')}`);
  });
});
