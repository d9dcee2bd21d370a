/**
 * Helpers for full sessions on real recordings (HIL): frames for references and still-photo "attack" recordings are
 * made at test time with ffmpeg, in memory or in a tmp dir that the caller removes — never in the repo.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ReplaySource } from '../../../src/camera/replay-source.ts';
import type { ResultDecision } from '../../../src/carrier/protocol.ts';
import type { Logger } from '../../../src/lib/logger.ts';
import { DEFAULT_BUTTON_PINS, DEFAULT_LED_PINS } from '../../../src/panel/panel.ts';
import { SimButtons, SimLeds } from '../../../src/panel/sim-panel.ts';
import type { ChallengeType, PolicyInput } from '../../../src/session/policy.ts';
import { seededRandom } from '../../../src/session/random.ts';
import { SessionRunner, type ProgressEvent, type RunnerEngine } from '../../../src/session/runner.ts';

const run = promisify(execFile);

/** One video frame at `t` s as JPEG bytes, in memory. */
export async function frameJpeg(video: string, t: number): Promise<Uint8Array> {
  const { stdout } = await run('ffmpeg', ['-loglevel', 'error', '-ss', String(t), '-i', video, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '2', '-'], { encoding: 'buffer', maxBuffer: 32 << 20 });
  return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length);
}

export async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'regterm-hil-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A still-photo attack: one real frame of `video` at `t` repeated for `seconds` at 30 fps (an mp4 in `dir`). */
export async function stillVideo(dir: string, video: string, t: number, seconds: number): Promise<string> {
  const out = join(dir, 'still.mp4');
  await run('ffmpeg', ['-loglevel', 'error', '-ss', String(t), '-i', video, '-frames:v', '1', '-f', 'image2', join(dir, 'still.png')]);
  await run('ffmpeg', ['-loglevel', 'error', '-loop', '1', '-framerate', '30', '-i', join(dir, 'still.png'), '-t', String(seconds), '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '12', out]);
  return out;
}

/**
 * A print attack as the camera sees it: a NUAA print-attack image sequence (one subject), each photo centred on a
 * 480x480 grey frame, 10 fps, repeated to `seconds`.
 */
export async function printAttackVideo(dir: string, files: string[], seconds: number): Promise<string> {
  const list = join(dir, 'list.txt');
  const body = files.map((f) => `file '${f}'\nduration 0.1\n`).join('');
  await import('node:fs/promises').then((fs) => fs.writeFile(list, body));
  const out = join(dir, 'print.mp4');
  await run('ffmpeg', ['-loglevel', 'error', '-stream_loop', '-1', '-f', 'concat', '-safe', '0', '-i', list, '-t', String(seconds),
    '-vf', 'scale=200:-2,pad=480:480:(ow-iw)/2:(oh-ih)/2:gray,fps=10', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '12', out]);
  return out;
}

export interface ClipSession {
  decision: ResultDecision;
  progress: ProgressEvent[];
  leds: SimLeds;
}

/** A full session on a recording with a forced challenge script (replay: no light challenge), as `regterm replay` runs it. */
export async function sessionOnClip(
  engine: RunnerEngine, logger: Logger, video: string, reference: Uint8Array, script: ChallengeType[], extra: PolicyInput = {},
): Promise<ClipSession> {
  const camera = new ReplaySource({ path: video, pace: 'fast', logger });
  const leds = new SimLeds(Object.keys(DEFAULT_LED_PINS));
  const buttons = new SimButtons(Object.keys(DEFAULT_BUTTON_PINS), logger);
  await leds.start();
  await buttons.start();
  await camera.start();
  const progress: ProgressEvent[] = [];
  try {
    const runner = new SessionRunner({
      engine, camera, leds, buttons, logger, timeSource: 'frames', random: seededRandom('hil-session'),
      onProgress: (_id, e) => progress.push(e),
    });
    const policy = { ...extra, challenges: { set: script, required: [], ordered: true, count: script.length } };
    const decision = await runner.run({ sessionId: 'hil', nonce: 'hil-nonce-0123456789', reference, policy }, new AbortController().signal);
    return { decision, progress, leds };
  } finally {
    await camera.stop();
    await leds.stop();
    await buttons.stop();
  }
}

export const readBytes = async (path: string): Promise<Uint8Array> => new Uint8Array(await readFile(path));
