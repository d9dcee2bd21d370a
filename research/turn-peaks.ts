/**
 * Peak |yaw − clip frontal| (degrees, the turn detector's input) inside each annotated turn of the 13 older clips,
 * from `regterm eval events --cache DIR` caches (the same files score:events wrote): one column per cache DIR, e.g. the
 * hybrid yaw before docs/pose.md's change and fr_pose on every frame after it.
 *   npx tsx research/turn-peaks.ts /tmp/se-before /tmp/se-after   (face data: $REGTERM_FACE_DATA, else ../shared/data)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEventsCsv } from '../src/camera/events-csv.ts';
import { clipFrontalYaw } from '../src/session/detectors/events-only.ts';
import { resolvePolicy } from '../src/session/policy.ts';
import type { FrameSignals } from '../src/session/signals.ts';

const SETS = ['liveportrait_driving_videos', 'sadtalker_hdtf_ref_videos', 'pcavs_pose_source', 'dagan_driving_video'];
const dirs = process.argv.slice(2);
const policy = resolvePolicy();
const data = process.env.REGTERM_FACE_DATA ?? resolve('../shared/data');
process.stdout.write(`| clip | turn (s) | confidence | ${dirs.join(' | ')} |\n| --- | --- | --- |${dirs.map(() => ' --- |').join('')}\n`);
for (const set of SETS) {
  for (const file of readdirSync(join(data, set)).filter((f) => f.endsWith('.events.csv')).sort()) {
    const clip = file.replace('.events.csv', '');
    const turns = parseEventsCsv(readFileSync(join(data, set, file), 'utf8')).filter((e) => e.event.startsWith('turn_'));
    if (turns.length === 0) continue;
    const runs = dirs.map((d) => JSON.parse(readFileSync(join(d, `${set}--${clip}.json`), 'utf8')) as { signals: FrameSignals[]; t0Ms: number });
    for (const t of turns) {
      const peaks = runs.map(({ signals, t0Ms }) => {
        const frontal = clipFrontalYaw(signals, policy);
        let peak = 0;
        for (const f of signals) {
          const s = f.tsMs - t0Ms;
          if (f.face && f.faceCount > 0 && s >= t.startMs && s <= t.endMs) peak = Math.max(peak, Math.abs(f.face.yawDeg - frontal));
        }
        return peak.toFixed(1);
      });
      const when = `${t.event} ${(t.startMs / 1000).toFixed(2)}–${(t.endMs / 1000).toFixed(2)}`;
      process.stdout.write(`| ${clip} | ${when} | ${t.extra?.confidence ?? ''} | ${peaks.join(' | ')} |\n`);
    }
  }
}
