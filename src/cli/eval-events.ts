/**
 * regterm eval events DIR... [--cache DIR] [--policy JSON] [--json]
 *
 * Every clip under the folders that has a `<clip>.events.csv` (hand-made annotations: start_s,end_s,event,confidence)
 * next to its recording (`<clip>.<video ext>` or a frame directory `<clip>`), through the same path as
 * `regterm replay --events-only` (recordingSignals with the events track: fr_pose on every frame), scored in two modes
 * by src/session/event-eval.ts: the clip scan (per clip and in total, per event type: detected/annotated, false
 * events per minute, mean detection delay) and the prompted mode (prompts before each high/medium event and at random
 * times through the session's challenge logic; src/session/prompted.ts; and what the clip, looped without seeing the
 * prompts, answers of prompts every 100 ms: a replay attack's chance per challenge), plus the anti-spoof windows a
 * session would aggregate on these live clips.
 *
 * --cache DIR keeps each clip's per-frame signals (pose, eye state, box, luminance, anti-spoof score; no pixels, no
 * landmarks, no embeddings) as `<folder name>--<clip>.json` in DIR, so a policy change re-scores in seconds. Use a tmp
 * dir, never the repository; a model change makes the cache stale (use a new DIR). --policy is a session policy
 * (as a carrier sends it, e.g. '{"turn":{"prompted":{"enterDeg":10}}}') over the deployment's, to score a variant.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { parseEventsCsv } from '../camera/events-csv.ts';
import type { Logger } from '../lib/logger.ts';
import { UsageError } from '../lib/errors.ts';
import type { TruthEvent } from '../session/detectors/event-score.ts';
import { EVENT_TYPES, evalClip, eventsTotals, type ClipEval, type EventsTotals } from '../session/event-eval.ts';
import type { SessionPolicy } from '../session/policy.ts';
import { eventsTrack, recordingSignals } from '../session/recording-signals.ts';
import type { FrameSignals } from '../session/signals.ts';
import type { FaceEngine } from '../vision/engine.ts';
import { progress } from './progress.ts';

/** Fixes the incidental prompts: the same clips give the same prompts on every run. */
export const INCIDENTAL_SEED = 'regterm eval events';

export interface AnnotatedClip {
  folder: string;
  clip: string;
  recording: string;
  annotations: string;
}

export type EventsReport = { clips: ClipEval[] } & EventsTotals;

/** The annotated clips under each folder, in folder then name order; an annotation without a recording is an error. */
export function annotatedClips(dirs: readonly string[]): AnnotatedClip[] {
  const out: AnnotatedClip[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`eval events: ${dir} is not a directory`);
    const entries = readdirSync(dir).sort();
    for (const file of entries.filter((f) => f.endsWith('.events.csv'))) {
      const clip = file.slice(0, -'.events.csv'.length);
      const recording = entries.find((e) => e === clip && statSync(join(dir, e)).isDirectory())
        ?? entries.find((e) => e.startsWith(`${clip}.`) && /^\.(mp4|mkv|mov|avi|webm)$/i.test(e.slice(clip.length)));
      if (!recording) throw new UsageError(`eval events: ${join(dir, file)} has no recording ${clip}.mp4 (or a frame directory ${clip})`);
      out.push({ folder: basename(resolve(dir)), clip, recording: join(dir, recording), annotations: join(dir, file) });
    }
  }
  return out;
}

/** A clip's signals: from the cache when it holds them, else through the engine (and into the cache). */
async function clipSignals(
  engine: FaceEngine, c: AnnotatedClip, policy: SessionPolicy, logger: Logger, cacheDir?: string,
): Promise<{ signals: FrameSignals[]; t0Ms: number }> {
  const cached = cacheDir ? join(cacheDir, `${c.folder}--${c.clip}.json`) : undefined;
  if (cached && existsSync(cached)) {
    const data = JSON.parse(await readFile(cached, 'utf8')) as { signals: FrameSignals[]; t0Ms: number };
    return { signals: data.signals, t0Ms: data.t0Ms };
  }
  const data = await recordingSignals(engine, c.recording, logger, undefined, eventsTrack(policy));
  if (cached) await writeFile(cached, JSON.stringify(data));
  return data;
}

export async function evalEvents(
  engine: FaceEngine, dirs: readonly string[], policy: SessionPolicy, logger: Logger,
  opts: { cacheDir?: string; stderr?: Writable } = {},
): Promise<EventsReport> {
  const clips = annotatedClips(dirs);
  if (clips.length === 0) throw new UsageError(`eval events: no <clip>.events.csv under ${dirs.join(', ')}`);
  if (opts.cacheDir) await mkdir(opts.cacheDir, { recursive: true });
  const evals: ClipEval[] = [];
  const bar = opts.stderr ? progress(opts.stderr, 'eval events', clips.length) : undefined;
  for (const c of clips) {
    const { signals, t0Ms } = await clipSignals(engine, c, policy, logger, opts.cacheDir);
    const truth: TruthEvent[] = parseEventsCsv(await readFile(c.annotations, 'utf8'), c.annotations).map((e) => ({
      startS: e.startMs / 1000, endS: e.endMs / 1000, event: e.event, confidence: e.extra?.confidence,
    }));
    evals.push(evalClip({ folder: c.folder, clip: c.clip }, signals, t0Ms, truth, policy, INCIDENTAL_SEED));
    bar?.tick();
  }
  bar?.done();
  return { clips: evals, ...eventsTotals(evals) };
}

/** The report as Markdown tables: per clip, the clip-scan totals, the prompted totals, anti-spoof. */
export function eventsTable(r: EventsReport): string {
  const lines = ['| clip | s | frontal | ' + EVENT_TYPES.map((t) => `${t} scan · prompted · incidental`).join(' | ') + ' | anti-spoof < threshold |'];
  lines.push(`| --- | --- | --- |${EVENT_TYPES.map(() => ' --- |').join('')} --- |`);
  for (const c of r.clips) {
    const cells = EVENT_TYPES.map((t) => {
      const s = c.scan[t];
      const p = c.prompted[t];
      return `${s.tp}/${s.tp + s.fn} fp ${s.fp} · ${p.answered}/${p.prompts}${p.unpromptable ? ` (+${p.unpromptable} unpromptable)` : ''} · ${p.incidentalPasses}/${p.incidentalPrompts}`;
    });
    lines.push(`| ${c.folder}/${c.clip} | ${c.seconds.toFixed(1)} | ${c.frontalYawDeg.toFixed(1)} | ${cells.join(' | ')} | ${c.antispoof.spoofWindows}/${c.antispoof.windows} |`);
  }
  lines.push('', `clip scan over ${r.minutes.toFixed(2)} min:`, '', '| event | TP | FN | FP | recall | false / min | mean delay s |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const t of EVENT_TYPES) {
    const x = r.total[t];
    lines.push(`| ${t} | ${x.tp} | ${x.fn} | ${x.fp} | ${x.recall.toFixed(2)} | ${x.falsePerMin.toFixed(2)} | ${x.meanDelayS?.toFixed(2) ?? '–'} |`);
  }
  lines.push('', 'prompted:', '', '| event | answered / prompts | recall | unpromptable | mean answer s | incidental passes / prompts | rate | looped replay answers / prompts | rate |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  for (const t of EVENT_TYPES) {
    const x = r.prompted[t];
    lines.push(`| ${t} | ${x.answered}/${x.prompts} | ${x.recall.toFixed(2)} | ${x.unpromptable} | ${x.meanAnswerS?.toFixed(2) ?? '–'} | ${x.incidentalPasses}/${x.incidentalPrompts} | ${pct(x.incidentalPassRate)} | ${x.replayAnswers}/${x.replayPrompts} | ${pct(x.replayAnswerRate)} |`);
  }
  lines.push('', `anti-spoof on live clips: ${r.antispoof.spoofWindows} of ${r.antispoof.windows} five-second windows below the threshold`);
  return `${lines.join('\n')}\n`;
}
