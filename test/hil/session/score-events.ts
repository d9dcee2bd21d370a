/**
 * Measurement for the issue #5 evidence (not a test): every annotated clip of liveportrait_driving_videos,
 * sadtalker_hdtf_ref_videos, pcavs_pose_source and dagan_driving_video through the SAME path as
 * `regterm replay --events-only` (replay source → I420 → RGB → face engine → vision adapter → detectors), scored
 * against the hand-made *.events.csv: per clip and overall, recall and false events per minute for blink,
 * turn_left and turn_right; and passive anti-spoof as a session aggregates it (5 s windows, trimmed mean) on these
 * live clips, where every window below the threshold would be a live customer refused as `spoof`.
 *   npx tsx test/hil/session/score-events.ts [--cache DIR] ['{"turn":{"enterDeg":15}}']
 * --cache keeps each clip's per-frame signals (pose, eyes, counts, and per-eye landmark scalars: nose offset, eye aspect
 * ratio, lid distance; no pixels, no coordinates, no embeddings) as JSON in DIR (use a tmp dir, never the repo) so
 * policy variants re-score in seconds. A model change makes the cache stale: use a new DIR. d20 is left out of the blink totals (its README: eye
 * state could not be annotated). ~5000 frames through the engine: several minutes on 2 cores.
 *
 * SPLIT (against fitting 13 clips): clips in the order below (set order, then file name) alternate between half A
 * (1st, 3rd, ...: d0 d13 d18 d20 d6 517600055 driving) and half B (d10 d14 d19 d3 WDA_... 796100172), fixed before
 * any tuning. The blink rules (bilateralMs) were chosen on B (where the errors were), A held out; the turn baseline
 * and thresholds come from geometry, not from either half (src/session/README.md). Totals per half and overall.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseEventsCsv } from '../../../src/camera/events-csv.ts';
import { createLogger } from '../../../src/device/logger.ts';
import { scoreEvents, type TruthEvent } from '../../../src/session/detectors/event-score.ts';
import { clipFrontalYaw, detectClipEvents } from '../../../src/session/detectors/events-only.ts';
import { antispoofWindows } from '../../../src/session/antispoof-windows.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { eventsTrack, recordingSignals } from '../../../src/session/recording-signals.ts';
import { deploymentPolicyBase } from '../../../src/session/runner-support.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { DATA } from '../vision/helpers.ts';

/** Landmark geometry for the yaw calibration study: nose tip offset from the jaw-contour midpoint / half width. */
function noseOffsetRatio(lm: Float32Array): number {
  const x0 = lm[0];
  const x16 = lm[32];
  return (lm[60] - (x0 + x16) / 2) / ((x16 - x0) / 2);
}

/**
 * Landmark eye geometry for the blink study (scalars only, no coordinates): per eye (subject's own left = iBUG 42-47)
 * the eye aspect ratio (Soukupova & Cech 2016: mean lid distance / corner distance) and the mean lid distance over the
 * inter-ocular distance (outer corners 36-45), which does not shrink with the eye's width when the head turns.
 */
function eyeGeometry(lm: Float32Array): { earL: number; earR: number; lidL: number; lidR: number } {
  const d = (a: number, b: number): number => Math.hypot(lm[2 * a] - lm[2 * b], lm[2 * a + 1] - lm[2 * b + 1]);
  const iod = d(36, 45);
  const lidR = (d(37, 41) + d(38, 40)) / 2;
  const lidL = (d(43, 47) + d(44, 46)) / 2;
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  return { earL: r3(lidL / d(42, 45)), earR: r3(lidR / d(36, 39)), lidL: r3(lidL / iod), lidR: r3(lidR / iod) };
}

export const SETS = ['liveportrait_driving_videos', 'sadtalker_hdtf_ref_videos', 'pcavs_pose_source', 'dagan_driving_video'];
const TYPES = ['blink', 'turn_left', 'turn_right'] as const;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { cache: { type: 'string' } } });
const policyInput = positionals[0] ? JSON.parse(positionals[0]) : {};
const logger = createLogger({ level: 'warn' });
const engine = new FaceEngine();
await engine.start();
const policy = resolvePolicy(policyInput, deploymentPolicyBase(engine));
const total: Record<string, { tp: number; fp: number; fn: number; minutes: number }> = {};
const spoofTotal = { windows: 0, spoof: 0 };

let clipIndex = 0;
if (values.cache) mkdirSync(values.cache, { recursive: true });

try {
  for (const set of SETS) {
    for (const file of readdirSync(join(DATA, set)).filter((f) => f.endsWith('.events.csv')).sort()) {
      const clip = file.replace('.events.csv', '');
      const cached = values.cache ? join(values.cache, `${set}--${clip}.json`) : undefined;
      let data: { signals: FrameSignals[]; t0Ms: number; noseOffset?: Array<number | null>; eyes?: Array<ReturnType<typeof eyeGeometry> | null> };
      if (cached && existsSync(cached)) data = JSON.parse(readFileSync(cached, 'utf8'));
      else {
        const noseOffset: Array<number | null> = [];
        const eyes: Array<ReturnType<typeof eyeGeometry> | null> = [];
        data = await recordingSignals(engine, join(DATA, set, `${clip}.mp4`), logger, (f) => {
          noseOffset.push(f.faces[0] ? noseOffsetRatio(f.faces[0].landmarks68) : null);
          eyes.push(f.faces[0] ? eyeGeometry(f.faces[0].landmarks68) : null);
        }, eventsTrack(policy));
        data.noseOffset = noseOffset;
        data.eyes = eyes;
        if (cached) writeFileSync(cached, JSON.stringify(data));
      }
      const truth: TruthEvent[] = parseEventsCsv(readFileSync(join(DATA, set, file), 'utf8')).map((e) => ({
        startS: e.startMs / 1000, endS: e.endMs / 1000, event: e.event, confidence: e.extra?.confidence,
      }));
      const s = data.signals;
      const minutes = s.length > 1 ? (s[s.length - 1].tsMs - s[0].tsMs) / 60000 : 0;
      const scores = scoreEvents(detectClipEvents(s, policy, data.t0Ms), truth);
      const cells: string[] = [];
      const half = clipIndex++ % 2 === 0 ? 'A' : 'B';
      for (const sc of scores) {
        if (clip === 'd20' && sc.type === 'blink') continue;
        for (const key of [`${half} ${sc.type}`, `all ${sc.type}`]) {
          const t = (total[key] ??= { tp: 0, fp: 0, fn: 0, minutes: 0 });
          t.tp += sc.truePositives;
          t.fp += sc.falsePositives;
          t.fn += sc.falseNegatives;
          t.minutes += minutes;
        }
        const recall = sc.positives > 0 ? ` (${sc.recall.toFixed(2)}, ${(sc.falsePositives / minutes).toFixed(1)}/min)` : '';
        cells.push(`${sc.type} ${sc.truePositives}/${sc.positives} fp ${sc.falsePositives}${recall}`);
      }
      const frontal = clipFrontalYaw(s, policy).toFixed(1);
      const spoof = antispoofWindows(s, policy);
      spoofTotal.windows += spoof.windows;
      spoofTotal.spoof += spoof.spoofWindows;
      const spoofCell = `anti-spoof windows < threshold ${spoof.spoofWindows}/${spoof.windows}`;
      process.stdout.write(`| ${half} | ${clip.slice(0, 30).padEnd(30)} | ${(minutes * 60).toFixed(1).padStart(5)} s | frontal ${frontal} | ${cells.join(' | ')} | ${spoofCell} |\n`);
    }
  }
} finally {
  await engine.stop();
}
process.stdout.write('\n| clips | event | TP | FN | FP | recall | false events / min |\n| --- | --- | --- | --- | --- | --- | --- |\n');
for (const key of ['A', 'B', 'all'].flatMap((h) => TYPES.map((type) => `${h} ${type}`))) {
  const t = total[key];
  const recall = t.tp + t.fn > 0 ? t.tp / (t.tp + t.fn) : 1;
  process.stdout.write(`| ${key.replace(' ', ' | ')} | ${t.tp} | ${t.fn} | ${t.fp} | ${recall.toFixed(2)} | ${(t.fp / t.minutes).toFixed(2)} |\n`);
}
process.stdout.write(`\nanti-spoof on live clips: ${spoofTotal.spoof} of ${spoofTotal.windows} five-second windows below the threshold ${policy.antispoof.threshold}\n`);
