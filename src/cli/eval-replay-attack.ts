/**
 * regterm eval replay-attack DIR|VIDEO... [--seeds N] [--first-seed K] [--models-dir DIR] [--json]
 *
 * How often a played-back recording, made without seeing the prompts, is decided `match`. Every clip (a video file,
 * or every *.mp4 in a directory) runs N full sessions exactly as `regterm replay` runs one (replay.ts `session`: the
 * same SessionRunner, frame clock, the clip's own frame at 80 % as the ID photo), each with its own fixed seed
 * `replay-attack-<k>` (k from --first-seed, default 0: a long measurement splits into runs that add up), so each
 * draws its own challenge plan and pauses. The clip loops (LoopingReplay), as an attacker's player would, so a short
 * clip is tested for the whole session rather than ending before it decides. The light challenge is off (a recording
 * cannot follow it): the session asks the default policy's motion challenges (blink, turn_left and turn_right, in
 * seeded order), with the live customer's reaction windows (a recording that is the attack gets no more time than a
 * customer; a plain `regterm replay` widens them to the deadline). Reports per clip and in total how many sessions
 * ended in each decision, and the `match` rate.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { LoopingReplay } from '../camera/looping-replay.ts';
import { createLogger } from '../lib/logger.ts';
import { UsageError, errorMessage } from '../lib/errors.ts';
import { FaceEngine } from '../vision/engine.ts';
import { type CommandContext, parseCommandArgs, writeJson } from './command.ts';
import { progress } from './progress.ts';
import { DEFAULT_MOTION_PLAN, RECORDING_ENDED, REFERENCE_AT, recordingFrameAsPng, session } from './replay.ts';

/** passes of a clip per session: enough for a 3 s clip to outlast the session's default 60 s cap */
const MAX_PASSES = 30;

export const USAGE = 'usage: regterm eval replay-attack DIR|VIDEO... [--seeds N] [--first-seed K] [--models-dir DIR] [--json]';

interface ClipReport {
  clip: string;
  sessions: number;
  match: number;
  /** the seeds whose session matched (a rerun with the same seed reproduces that session) */
  matchSeeds: string[];
  decisions: Record<string, number>;
  /** sessions whose every drawn challenge passed (what the recording's incidental motion answered) */
  challengesPassed: number;
  /** sessions the recording ran out before they decided (all its passes played; a later deadline decided them) */
  recordingEnded: number;
}

export async function run(ctx: CommandContext): Promise<number> {
  const p = parseCommandArgs('eval replay-attack', {
    args: ctx.argv, allowPositionals: true,
    options: {
      seeds: { type: 'string', default: '5' }, 'first-seed': { type: 'string', default: '0' },
      json: { type: 'boolean', default: false }, 'models-dir': { type: 'string' },
    },
  });
  const seeds = Number(p.values.seeds);
  if (!Number.isInteger(seeds) || seeds < 1) throw new UsageError('--seeds must be a positive integer');
  const firstSeed = Number(p.values['first-seed']);
  if (!Number.isInteger(firstSeed) || firstSeed < 0) throw new UsageError('--first-seed must be a non-negative integer');
  if (p.positionals.length === 0) throw new UsageError(USAGE);
  const clips = (await Promise.all(p.positionals.map(videosIn))).flat();
  if (clips.length === 0) throw new UsageError(`eval replay-attack: no *.mp4 in ${p.positionals.join(' ')}`);
  const logger = createLogger({ level: ctx.env.LOG_LEVEL ?? 'warn', destination: pino.destination({ dest: 2, sync: true }) });
  const engine = new FaceEngine({ modelsDir: p.values['models-dir'], logger: logger.child({ component: 'vision' }) });
  await engine.start();
  const started = performance.now();
  const perClip: ClipReport[] = [];
  const bar = progress(ctx.stderr, 'eval replay-attack', clips.length * seeds);
  try {
    for (const clip of clips) {
      const ownFrame = await recordingFrameAsPng(clip, REFERENCE_AT, logger);
      const r: ClipReport = { clip, sessions: 0, match: 0, matchSeeds: [], decisions: {}, challengesPassed: 0, recordingEnded: 0 };
      for (let k = firstSeed; k < firstSeed + seeds; k++) {
        const camera = new LoopingReplay({ path: clip, logger: logger.child({ component: 'camera' }), maxPasses: MAX_PASSES, pace: 'fast' });
        const args = { recording: clip, json: true, eventsOnly: false, seed: `replay-attack-${k}`, liveReactionWindow: true };
        const out = await session(engine, args, logger, undefined, ownFrame.slice(), camera);
        const decision = String(out.json.decision);
        const challenges = out.json.challenges as Array<{ passed: boolean }>;
        r.sessions++;
        r.decisions[decision] = (r.decisions[decision] ?? 0) + 1;
        if (decision === 'match') {
          r.match++;
          r.matchSeeds.push(args.seed);
        }
        if (challenges.length > 0 && challenges.every((c) => c.passed)) r.challengesPassed++;
        if (out.notes.some((n) => n.startsWith(RECORDING_ENDED))) r.recordingEnded++;
        bar.tick();
      }
      ownFrame.fill(0);
      perClip.push(r);
      bar.note(`eval replay-attack: ${clip}: ${r.match} of ${r.sessions} match`);
    }
  } finally {
    bar.done();
    await engine.stop();
  }
  const sessions = perClip.reduce((a, c) => a + c.sessions, 0);
  const match = perClip.reduce((a, c) => a + c.match, 0);
  const decisions: Record<string, number> = {};
  for (const c of perClip) for (const [d, n] of Object.entries(c.decisions)) decisions[d] = (decisions[d] ?? 0) + n;
  const totalMs = performance.now() - started;
  const report = {
    seeds, firstSeed, clips: perClip.length,
    policy: `default, light challenge off: ${DEFAULT_MOTION_PLAN.count} of ${DEFAULT_MOTION_PLAN.set.join('/')} per session, random order and pauses; clip looped`,
    total: {
      sessions, match, matchRate: match / sessions, challengesPassed: perClip.reduce((a, c) => a + c.challengesPassed, 0),
      recordingEnded: perClip.reduce((a, c) => a + c.recordingEnded, 0), decisions,
    },
    perClip,
    timing: { totalMs: Math.round(totalMs), perSessionMs: Math.round(totalMs / sessions) },
  };
  if (p.values.json) writeJson(ctx.stdout, report);
  else ctx.stdout.write(`${match} of ${sessions} replayed sessions decided match (${(100 * report.total.matchRate).toFixed(1)} %), ${perClip.length} clips x ${seeds} seeds\n`);
  return 0;
}

/** A video file as itself; a directory as its *.mp4 files, sorted. */
async function videosIn(path: string): Promise<string[]> {
  const s = await stat(path).catch((e: unknown) => {
    throw new UsageError(`eval replay-attack: cannot read ${path} (${errorMessage(e)})`);
  });
  if (!s.isDirectory()) return [path];
  return (await readdir(path)).filter((f) => f.endsWith('.mp4')).sort().map((f) => join(path, f));
}
