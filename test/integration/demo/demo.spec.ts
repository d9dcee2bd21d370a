import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { resultPayloadSchema } from '../../../src/carrier/protocol.ts';
import { REGTERM } from '../agent/agent-process.ts';
import { faceDataRoot } from '../../face-data.ts';

/**
 * `regterm demo` as a user runs it (a real process): the default clip from the shared data, the embedded aedes
 * broker, the carrier stand-in. Output is not a TTY here, so the simulated LEDs are plain timestamped lines.
 */
const DATA = faceDataRoot();
const run = promisify(execFile);

async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [REGTERM, 'demo', ...args], {
      encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, REGTERM_FACE_DATA: DATA }, timeout: 200_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e: unknown) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('regterm demo', () => {
  it('runs one registration end to end and prints the carrier\'s verified view as JSON', async () => {
    expect(existsSync(join(DATA, 'liveportrait_driving_videos', 'd3.mp4'))).toBe(true);
    const { code, stdout, stderr } = await demo(['--json', '--seed', 'demo-test']);
    expect(code, stderr).toBe(0);
    const view = JSON.parse(stdout) as { decision: string; verified: boolean; jws: string; payload: unknown };
    expect(view).toMatchObject({ decision: 'match', verified: true });
    const payload = resultPayloadSchema.parse(view.payload);
    expect(JSON.parse(Buffer.from(view.jws.split('.')[1]!, 'base64url').toString())).toEqual(view.payload);
    expect(decodeProtectedHeader(view.jws)).toMatchObject({ alg: 'EdDSA', typ: 'regterm-result+jws' });
    expect(payload).toMatchObject({ deviceId: 'demo-terminal', decidedBy: 'match', seq: 1 });
    expect(payload.challenges).toEqual([expect.objectContaining({ type: 'turn_left', passed: true })]);
    // prompts as they happened, and the simulated LEDs as plain lines (stderr, since stdout holds the JSON)
    const prompts = [...stderr.matchAll(/prompt: (\w+)/g)].map((m) => m[1]);
    expect(prompts).toContain('look_at_camera');
    expect(prompts.indexOf('turn_left')).toBeGreaterThan(prompts.indexOf('look_at_camera'));
    expect(stderr).toMatch(/^\+\s+\d+\.\d\ds LEDs left$/m);
    expect(stderr).toMatch(/^\+\s+\d+\.\d\ds LEDs pass$/m);
    expect(stderr).not.toContain('\x1b[');
  }, 240_000);

  it('says in one line what is wrong with a missing clip', async () => {
    const { code, stdout, stderr } = await demo(['--clip', '/nonexistent/clip.mp4']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe('regterm: clip /nonexistent/clip.mp4 does not exist');
  });
});
