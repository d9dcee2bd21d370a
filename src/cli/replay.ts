/**
 * regterm replay RECORDING [--reference IMG] [--challenges blink,turn_left,...] [--json] [--report FILE.html]
 * regterm replay RECORDING --events-only [--json] [--report FILE.html]
 *
 * A registration session on a recording (a recording directory or a plain video file), played lockstep ('fast'
 * pace) with the session clock on the recorded timestamps, so a replay is deterministic and independent of CPU
 * speed. A replay cannot follow the LED light challenge: a forced --challenges script may not contain it, and
 * without one the session uses blink/turn_left/turn_right only (two drawn per session). Without --reference the
 * reference is the recording's own frame at 80 % of its length (a liveness check with a self-match).
 * --events-only runs the blink/turn detectors over the whole clip instead and prints the events with times, and
 * the passive anti-spoof decision a session would reach on every 5 s window (session/antispoof-windows.ts).
 * --report writes a self-contained HTML debug page WITH FACE THUMBNAILS (only when asked for).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import sharp from 'sharp';
import { i420ToRgb } from '../camera/i420.ts';
import type { FrameSource } from '../camera/frame-source.ts';
import { ReplaySource } from '../camera/replay-source.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { UsageError, errorMessage } from '../lib/errors.ts';
import { DEFAULT_BUTTON_PINS, DEFAULT_LED_PINS } from '../panel/panel.ts';
import { SimButtons, SimLeds } from '../panel/sim-panel.ts';
import { antispoofWindows } from '../session/antispoof-windows.ts';
import { detectClipEvents, type ClipEvent } from '../session/detectors/events-only.ts';
import { RECORDING_ANSWER_WINDOWS, resolvePolicy, type ChallengeType, type PolicyInput, type SessionPolicy } from '../session/policy.ts';
import { seededRandom } from '../session/random.ts';
import { eventsTrack, recordingSignals } from '../session/recording-signals.ts';
import { ReportCollector } from '../session/report-html.ts';
import { traceThresholds } from '../session/trace.ts';
import { SessionRunner, type ProgressEvent } from '../session/runner.ts';
import { deploymentPolicyBase } from '../session/deployment-policy.ts';
import { FaceEngine } from '../vision/engine.ts';
import { type CommandContext, writeJson } from './command.ts';

const MOTIONS: readonly ChallengeType[] = ['blink', 'turn_left', 'turn_right'];
/** The default policy's plan without the light challenge: what a live customer is asked besides the LEDs. */
export const DEFAULT_MOTION_PLAN = motionPlan(resolvePolicy().challenges);
const LIGHT_NOTE = 'a replayed recording cannot follow the LED light challenge: it is not part of this session';
const REACTION_NOTE = 'a replayed recording does not react to the prompts: a blink or turn may start any time before the deadline';
const USAGE = `usage: regterm replay RECORDING [--reference IMG] [--challenges blink,turn_left,turn_right] [--seed TEXT]
                      [--models-dir DIR] [--json] [--report FILE.html]
       regterm replay RECORDING --events-only [--json] [--report FILE.html]
Runs a registration session (or, with --events-only, the blink/turn detectors over the whole clip) on a recording
directory or a video file. Without --reference the recording's own frame at 80 % of its length is the ID photo.
--report writes a self-contained HTML timeline with face thumbnails: a debug artefact (mode 0600), delete it after use.
`;

export async function run(ctx: CommandContext): Promise<number> {
  if (ctx.argv.includes('--help') || ctx.argv.includes('-h')) {
    ctx.stdout.write(USAGE);
    return 0;
  }
  const args = parse(ctx.argv);
  const logger = createLogger({ level: ctx.env.LOG_LEVEL ?? 'warn', destination: pino.destination({ dest: 2, sync: true }) });
  const engine = new FaceEngine({ modelsDir: args.modelsDir, logger: logger.child({ component: 'vision' }) });
  await engine.start();
  try {
    const report = args.report ? new ReportCollector(traceThresholds(resolvePolicy({}, deploymentPolicyBase(engine)))) : undefined;
    const out = args.eventsOnly
      ? await eventsOnly(engine, args.recording, logger, report)
      : await session(engine, args, logger, report);
    if (report && args.report) {
      const html = await report.render({ title: `regterm replay ${args.recording}`, result: out.json, notes: out.notes }, out.events);
      await writeFile(args.report, html, { mode: 0o600 });
    }
    if (args.json) writeJson(ctx.stdout, out.json);
    else ctx.stdout.write(`${out.line}\n`);
    return 0;
  } finally {
    await engine.stop();
  }
}

export interface Args {
  recording: string; reference?: string; challenges?: ChallengeType[]; json: boolean; report?: string;
  eventsOnly: boolean; modelsDir?: string; seed: string;
  /**
   * the live customer's reaction window for turns (eval replay-attack: the recording IS the attack, so it gets no
   * more time than a customer); otherwise a turn may start any time before the deadline (REACTION_NOTE)
   */
  liveReactionWindow?: boolean;
}

function parse(argv: string[]): Args {
  let p;
  try {
    p = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        reference: { type: 'string' }, challenges: { type: 'string' }, json: { type: 'boolean', default: false },
        report: { type: 'string' }, 'events-only': { type: 'boolean', default: false }, 'models-dir': { type: 'string' },
        seed: { type: 'string', default: 'regterm-replay' },
      },
    });
  } catch (e: unknown) {
    throw new UsageError(`replay: ${errorMessage(e)}`);
  }
  if (p.positionals.length !== 1) throw new UsageError(USAGE.trimEnd());
  const v = p.values;
  let challenges: ChallengeType[] | undefined;
  if (v.challenges !== undefined) {
    challenges = v.challenges.split(',').map((s) => s.trim()).filter(Boolean) as ChallengeType[];
    for (const c of challenges) {
      if (c === 'light') throw new UsageError(`--challenges: ${LIGHT_NOTE.replace(': it is not part of this session', '')}`);
      if (!MOTIONS.includes(c)) throw new UsageError(`--challenges: unknown challenge '${c}' (use ${MOTIONS.join(', ')})`);
    }
    if (challenges.length === 0 || challenges.length > 8) throw new UsageError('--challenges needs 1..8 challenges');
  }
  if (v['events-only'] && (v.reference || challenges)) throw new UsageError('--events-only takes no --reference or --challenges');
  return {
    recording: p.positionals[0], reference: v.reference, challenges, json: v.json, report: v.report,
    eventsOnly: v['events-only'], modelsDir: v['models-dir'], seed: v.seed,
  };
}

export interface Output { json: Record<string, unknown>; line: string; events: ClipEvent[]; notes: string[] }

async function eventsOnly(engine: FaceEngine, path: string, logger: Logger, report?: ReportCollector): Promise<Output> {
  let t0: number | undefined;
  const policy = resolvePolicy({}, deploymentPolicyBase(engine));
  const { signals, t0Ms } = await recordingSignals(engine, path, logger, report && ((f) => report.frame(f, (t0 ??= f.tsMs))), eventsTrack(policy));
  const events = detectClipEvents(signals, policy, t0Ms);
  const antispoof = antispoofWindows(signals, policy);
  const count = (t: string): number => events.filter((e) => e.type === t).length;
  return {
    json: { events, antispoof }, events, notes: [`events-only: ${signals.length} frames`],
    line: `${signals.length} frames: ${count('blink')} blinks, ${count('turn_left')} turns left, ${count('turn_right')} turns right;`
      + ` anti-spoof: ${antispoof.spoofWindows} of ${antispoof.windows} session windows spoof`,
  };
}

/**
 * One replayed session. `ownFrame`: the recording's own reference frame (recordingFrameAsPng) when the caller already
 * has it (eval replay-attack runs many sessions per clip); the runner zeroes it, so pass a copy. `source`: the camera
 * instead of one pass of the recording (eval replay-attack loops it).
 */
export async function session(
  engine: FaceEngine, args: Args, logger: Logger, report?: ReportCollector, ownFrame?: Uint8Array, source?: FrameSource,
): Promise<Output> {
  const notes = args.liveReactionWindow ? [LIGHT_NOTE] : [LIGHT_NOTE, REACTION_NOTE];
  const policy: PolicyInput = {
    ...(args.challenges
      ? { challenges: { set: args.challenges, required: [], ordered: true, count: args.challenges.length } }
      : { challenges: DEFAULT_MOTION_PLAN }),
    ...(args.liveReactionWindow ? {} : RECORDING_ANSWER_WINDOWS),
  };
  if (!args.challenges) notes.push(`no --challenges: the default policy's motion challenges, ${DEFAULT_MOTION_PLAN.count} of ${DEFAULT_MOTION_PLAN.set.join('/')} in seeded order`);
  let reference: Uint8Array;
  if (args.reference) {
    reference = new Uint8Array(await readFile(args.reference).catch((e: unknown) => {
      throw new UsageError(`--reference: cannot read ${args.reference} (${errorMessage(e)})`);
    }));
  } else {
    reference = ownFrame ?? await recordingFrameAsPng(args.recording, REFERENCE_AT, logger);
    notes.push('no --reference: the reference is the recording\'s own frame at 80 % of its length');
  }
  const camera = source ?? new ReplaySource({ path: args.recording, pace: 'fast', logger: logger.child({ component: 'camera' }) });
  const leds = new SimLeds(Object.keys(DEFAULT_LED_PINS));
  const buttons = new SimButtons(Object.keys(DEFAULT_BUTTON_PINS), logger);
  await Promise.all([leds.start(), buttons.start()]);
  await camera.start();
  const passes: ProgressEvent[] = [];
  let lastFrameMs = 0;
  const runner = new SessionRunner({
    engine, camera, leds, buttons, logger, timeSource: 'frames', random: seededRandom(args.seed),
    onProgress: (_id, e) => {
      report?.progress(e);
      if (e.event === 'challenge_passed' || e.event === 'challenge_failed') passes.push(e);
    },
    onFrame: (f) => {
      lastFrameMs = f.tsMs;
      report?.frame(f);
    },
  });
  try {
    const d = await runner.run({ sessionId: 'replay', nonce: 'replay-nonce-0000', reference, policy: policy as Record<string, unknown> }, new AbortController().signal);
    const challenges = d.challenges.map((c, i) => {
      const at = passes[i];
      return { type: c.type, passed: c.passed, atS: at ? at.atMs / 1000 : null };
    });
    const decidedMs = Date.parse(d.finishedAt) - Date.parse(d.startedAt);
    if (decidedMs > lastFrameMs + 50) {
      notes.push(`${RECORDING_ENDED} at ${(lastFrameMs / 1000).toFixed(2)} s, before the session decided: later deadlines decided it (a replay has no customer who stays)`);
    }
    const json = { decision: d.decision, decidedBy: d.decidedBy, ...(d.reason ? { reason: d.reason } : {}), scores: d.scores, thresholds: d.thresholds, challenges, notes };
    return { json, notes, events: [], line: `${d.decision} (by ${d.decidedBy}${d.reason ? `: ${d.reason}` : ''}) ${challenges.map((c) => `${c.type}:${c.passed ? 'ok' : 'failed'}`).join(' ')}` };
  } finally {
    await camera.stop();
    await Promise.all([leds.stop(), buttons.stop()]);
  }
}

/** The note a session gets when its recording ended before it decided. */
export const RECORDING_ENDED = 'the recording ended';

/** Where in the recording its own reference frame is taken (fraction of its length). */
export const REFERENCE_AT = 0.8;

/** One frame of the recording as PNG bytes in memory (the caller's reference; the runner zeroes it). */
export async function recordingFrameAsPng(path: string, at: number, logger: Logger): Promise<Uint8Array> {
  const source = new ReplaySource({ path, pace: 'fast', logger: logger.child({ component: 'camera' }) });
  await source.start();
  try {
    const count = source.recording?.frames.count ?? 0;
    const target = Math.min(count - 1, Math.floor(count * at));
    for await (const f of source.frames()) {
      if (f.seq < target) {
        f.data.fill(0);
        continue;
      }
      const rgb = i420ToRgb(f);
      f.data.fill(0);
      const png = await sharp(rgb, { raw: { width: f.width, height: f.height, channels: 3 } }).png().toBuffer();
      rgb.fill(0);
      return new Uint8Array(png.buffer, png.byteOffset, png.length);
    }
  } finally {
    await source.stop();
  }
  throw new UsageError(`${path}: the recording has no frames`);
}

/** A plan's challenges without light (a recording cannot follow it): its motion types, and its count less the light. */
function motionPlan(c: SessionPolicy['challenges']): { set: ChallengeType[]; required: ChallengeType[]; count: number } {
  const motions = (types: readonly ChallengeType[]): ChallengeType[] => types.filter((t) => t !== 'light');
  const lightAsked = c.required.includes('light') ? 1 : 0;
  return { set: motions(c.set), required: motions(c.required), count: Math.max(1, c.count - lightAsked) };
}
