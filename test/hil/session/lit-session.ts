/**
 * One full session (SessionRunner → real FaceEngine → session core → sim LEDs) on a real clip seen by the lit camera
 * (lit-replay.ts), all on one virtual timeline (lit-clock.ts): the runner's 'clock' time source, the PatternPlayer,
 * the session's tick timer and frame capture times share the VirtualClock, which moves only as frames are captured.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ResultDecision } from '../../../src/carrier/protocol.ts';
import type { Logger } from '../../../src/lib/logger.ts';
import { DEFAULT_BUTTON_PINS, DEFAULT_LED_PINS } from '../../../src/panel/panel.ts';
import { SimButtons, SimLeds } from '../../../src/panel/sim-panel.ts';
import { planChallenges } from '../../../src/session/challenges.ts';
import { evaluateLight, lightChips, type LightResult, type LightSchedule, type LumaSample } from '../../../src/session/light.ts';
import { resolvePolicy, type ChallengeType, type PolicyInput, type SessionPolicy } from '../../../src/session/policy.ts';
import { seededRandom } from '../../../src/session/random.ts';
import { deploymentPolicyBase } from '../../../src/session/deployment-policy.ts';
import { SessionRunner, type ProgressEvent, type RunnerEngine } from '../../../src/session/runner.ts';
import { VirtualClock } from './lit-clock.ts';
import { LitReplaySource, type Illuminator } from './lit-replay.ts';

const run = promisify(execFile);
const SEED = 'hil-light';
const TICK_MS = 100;

export interface LitSessionOptions {
  video: string;
  reference: Uint8Array;
  script: ChallengeType[];
  nonce: string;
  /** luma levels on a white surface at the centre of the LED's lit zone (lit-replay.ts); 0 = LEDs have no effect */
  gain: number;
  delayFrames?: number;
  /** default: the session's own light LED; else e.g. another session's recorded LED history */
  illuminator?: (leds: SimLeds) => Illuminator;
}

export interface LitSession {
  decision: ResultDecision;
  progress: ProgressEvent[];
  leds: SimLeds;
  /** per frame the camera produced: was the LED on for it (after the delay) */
  litFrames: boolean[];
  /**
   * The light challenge re-evaluated from the face luminance the session was fed (white-box, to report the on/off
   * delta the result does not carry); undefined if the challenge never started. `correlation` must equal the
   * result's `scores.light`.
   */
  light?: LightReplay;
}

/** The light challenge's evaluation redone by the test, with its inputs (to try the same samples on other sequences). */
export interface LightReplay extends LightResult {
  schedule: LightSchedule;
  /** the face luminance samples the challenge saw */
  samples: LumaSample[];
  policy: SessionPolicy['light'];
}

export async function litSession(engine: RunnerEngine, logger: Logger, o: LitSessionOptions): Promise<LitSession> {
  const clock = new VirtualClock(0);
  const leds = new SimLeds(Object.keys(DEFAULT_LED_PINS), clock);
  const buttons = new SimButtons(Object.keys(DEFAULT_BUTTON_PINS), logger, clock);
  const illuminator = o.illuminator?.(leds) ?? (() => leds.isOn('light'));
  const camera = new LitReplaySource({ path: o.video, logger, clock, illuminator, gain: o.gain, delayFrames: o.delayFrames ?? 1 });
  const policyInput: PolicyInput = { challenges: { set: o.script, required: [], ordered: true, count: o.script.length } };
  const luma: LumaSample[] = [];
  const progress: ProgressEvent[] = [];
  await leds.start();
  await buttons.start();
  await camera.start();
  try {
    const runner = new SessionRunner({
      engine, camera, leds, buttons, logger, clock, timeSource: 'clock', tickMs: TICK_MS, random: seededRandom(SEED),
      onProgress: (_id, e) => progress.push(e),
      onFrame: (f) => {
        if (f.signals.face) luma.push({ tsMs: f.tsMs, luma: f.signals.face.faceLuma });
      },
    });
    const request = { sessionId: 'hil-light', nonce: o.nonce, reference: o.reference, policy: policyInput as Record<string, unknown> };
    const decision = await runner.run(request, new AbortController().signal);
    const light = reevaluate(engine, policyInput, o.nonce, progress, luma);
    return { decision, progress, leds, litFrames: camera.litFrames, ...(light ? { light } : {}) };
  } finally {
    await camera.stop();
    await leds.stop();
    await buttons.stop();
  }
}

/**
 * The light challenge's own evaluation, redone on the luminance samples the session saw. The schedule is rebuilt
 * as the session built it (same seed → same plan → same salt; start = prompt + leadMs). The session started at
 * clock 0 and every time here is an integer ms (recorded frame times, 100 ms ticks), so progress times are exact
 * clock times. Samples: frames from the schedule start up to the decision time T; a frame captured exactly at T
 * counts only if T is not a tick time (the VirtualClock fires the tick due at T before the frame captured at T is
 * handed out, and a tick at the deadline decides first).
 */
function reevaluate(
  engine: RunnerEngine, policyInput: PolicyInput, nonce: string, progress: ProgressEvent[], luma: LumaSample[],
): LightReplay | undefined {
  const policy = resolvePolicy(policyInput, deploymentPolicyBase(engine));
  const started = progress.find((e) => e.event === 'challenge_started' && e.detail?.challenge === 'light');
  const ended = progress.find((e) => (e.event === 'challenge_passed' || e.event === 'challenge_failed') && e.detail?.challenge === 'light');
  if (!started) return undefined;
  const salt = planChallenges(policy, seededRandom(SEED)).lightSalt;
  const schedule: LightSchedule = {
    startMs: started.atMs + policy.light.leadMs, chipMs: policy.light.chipMs, chips: lightChips(nonce, salt, policy.light.dataBits),
  };
  const endMs = ended?.atMs ?? Infinity;
  const tickAtEnd = endMs % TICK_MS === 0;
  const samples = luma.filter((p) => p.tsMs >= schedule.startMs && (p.tsMs < endMs || (p.tsMs === endMs && !tickAtEnd)));
  return { ...evaluateLight(schedule, samples, policy.light), schedule, samples, policy: policy.light };
}

/** `seconds` of `video` from `startS`, re-encoded near-losslessly into `dir` (a caller-removed tmp dir). */
export async function clipSegment(dir: string, video: string, startS: number, seconds: number): Promise<string> {
  const out = join(dir, 'segment.mp4');
  await run('ffmpeg', ['-loglevel', 'error', '-ss', String(startS), '-i', video, '-t', String(seconds),
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-crf', '12', out]);
  return out;
}
