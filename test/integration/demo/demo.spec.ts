import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { resultPayloadSchema } from '../../../src/carrier/protocol.ts';
import { DEMO_CLIP } from '../../../src/compose/demo/asset.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { DemoRig } from '../../../src/compose/demo/rig.ts';
import { REGTERM } from '../agent/agent-process.ts';

/**
 * `regterm demo` as a user runs it (a real process): the bundled clip (models/demo), the embedded aedes broker, the
 * carrier stand-in. Output is not a TTY here, so the simulated LEDs are plain timestamped lines. No face data needed.
 */
const run = promisify(execFile);

async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [REGTERM, 'demo', ...args], {
      encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 200_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e: unknown) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

type View = { decision: string; verified: boolean; jws: string; payload: Record<string, unknown> };

describe('regterm demo', () => {
  let byDefault: View;

  it('runs one registration end to end on the bundled clip and prints the carrier\'s verified view as JSON', async () => {
    const { code, stdout, stderr } = await demo(['--json', '--seed', 'demo-test']);
    expect(code, stderr).toBe(0);
    byDefault = JSON.parse(stdout) as View;
    expect(byDefault).toMatchObject({ decision: 'match', verified: true });
    const payload = resultPayloadSchema.parse(byDefault.payload);
    expect(JSON.parse(Buffer.from(byDefault.jws.split('.')[1]!, 'base64url').toString())).toEqual(byDefault.payload);
    expect(decodeProtectedHeader(byDefault.jws)).toMatchObject({ alg: 'EdDSA', typ: 'regterm-result+jws' });
    expect(payload).toMatchObject({ deviceId: 'demo-terminal', decidedBy: 'match', seq: 1 });
    expect(payload.challenges).toEqual([expect.objectContaining({ type: 'turn_left', passed: true })]);
    // prompts as they happened, and the simulated LEDs as plain lines (stderr, since stdout holds the JSON)
    const prompts = [...stderr.matchAll(/prompt: (\w+)/g)].map((m) => m[1]);
    expect(prompts).toContain('look_at_camera');
    expect(prompts.indexOf('turn_left')).toBeGreaterThan(prompts.indexOf('look_at_camera'));
    expect(stderr).toMatch(/^\+\s+\d+\.\d\ds LEDs left$/m);
    expect(stderr).toMatch(/^\+\s+\d+\.\d\ds LEDs pass$/m);
    expect(stderr).toContain('ID photo: frame at -1 s');
    expect(stderr).not.toContain('clip ended');
    expect(stderr).not.toContain('\x1b[');
  }, 240_000);

  it('--clip with the bundled clip runs the same session as the default (same plan, same ID photo rule)', async () => {
    const { code, stdout, stderr } = await demo(['--clip', DEMO_CLIP, '--json', '--seed', 'demo-test']);
    expect(code, stderr).toBe(0);
    const view = JSON.parse(stdout) as View;
    for (const key of ['decision', 'decidedBy', 'challenges', 'scores'] as const) {
      expect(view.payload[key], key).toEqual(byDefault.payload[key]);
    }
  }, 240_000);

  it('a clip that ends before the session could finish: says so in one line and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regterm-demo-short-'));
    try {
      const short = join(dir, 'short.mp4');
      await run('ffmpeg', ['-v', 'error', '-i', DEMO_CLIP, '-t', '3', short]);
      const { code, stdout, stderr } = await demo(['--clip', short, '--json']);
      expect(code).toBe(1);
      expect(JSON.parse(stdout)).toMatchObject({ decision: 'no_face', verified: true });
      expect(stderr).toMatch(/^regterm: the clip ended during the challenges step \(all 90 frames played\): the session could not finish/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('says in one line what is wrong with a missing clip or challenge', async () => {
    const missing = await demo(['--clip', '/nonexistent/clip.mp4']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim()).toBe('regterm: clip /nonexistent/clip.mp4 does not exist');
    const challenge = await demo(['--challenge', 'light']);
    expect(challenge.code).toBe(2);
    expect(challenge.stderr.trim()).toBe("regterm: --challenge must be one of blink, turn_left, turn_right (got 'light')");
  });
});

describe('the bundled demo clip', () => {
  it('reaches a verified match whatever the random pause before its challenge (shortest and longest)', async () => {
    for (const pauseMs of [300, 1200]) {
      const rig = await DemoRig.open({ clip: DEMO_CLIP, logLevel: 'silent', logDestination: process.stderr });
      try {
        await rig.start();
        const reference = await extractJpegFrame(DEMO_CLIP, -1);
        const view = await rig.session(reference, { challenges: { set: ['turn_left'], required: [], count: 1, pauseMinMs: pauseMs, pauseMaxMs: pauseMs }, turn: { prompted: { startWithinMs: 7000 } } }, 120_000);
        expect(view, `pause ${pauseMs} ms`).toMatchObject({ decision: 'match', verified: true });
      } finally {
        await rig.close();
      }
    }
  }, 240_000);
});
