/**
 * How often the session's face track carries the detector box on the 13 annotated clips (issue #3, detskip): per clip,
 * the share of face frames whose box was carried (`FaceAnalysis.boxSource` 'landmarks'), split by what else the frame
 * ran (fr_pose, anti-spoof, iris lids, neither). The same path as `regterm replay --events-only` (one track per clip).
 *   node --import tsx research/carried-frames.ts
 * Prints counts only (no pixels, no coordinates).
 */
import { join } from 'node:path';
import { createLogger } from '../src/lib/logger.ts';
import { faceDataRoot } from '../test/face-data.ts';
import { resolvePolicy } from '../src/session/policy.ts';
import { recordingSignals } from '../src/session/recording-signals.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import type { FaceAnalysis } from '../src/vision/engine.ts';
import { clipFiles } from '../test/hil/vision/pose-clips.ts';

type Kind = 'pose' | 'antispoof' | 'lids' | 'neither';
const KINDS: Kind[] = ['pose', 'antispoof', 'lids', 'neither'];
type Counts = Record<Kind, { frames: number; carried: number }>;

const noCounts = (): Counts => Object.fromEntries(KINDS.map((k) => [k, { frames: 0, carried: 0 }])) as Counts;
/** All kinds together. */
const sum = (c: Counts): { frames: number; carried: number } =>
  KINDS.reduce((t, k) => ({ frames: t.frames + c[k].frames, carried: t.carried + c[k].carried }), { frames: 0, carried: 0 });

/**
 * What the primary face's frame ran besides the detector or the carry. A lid frame measures both eyes; a frame that
 * measured lids while fr_eye read an eye closed (below the blink policy's closedBelow) counts as neither: it measured
 * only the closed eyes, or it was a lid frame during a closure (rare; those frames run the detector anyway).
 */
function kindOf(face: FaceAnalysis, closedBelow: number): Kind {
  if (face.poseSource === 'model') return 'pose';
  if (face.antispoof !== undefined) return 'antispoof';
  if (face.lids !== undefined && face.eyes.left >= closedBelow && face.eyes.right >= closedBelow) return 'lids';
  return 'neither';
}

const { closedBelow } = resolvePolicy().blink;
const engine = new FaceEngine();
await engine.start();
const logger = createLogger({ level: 'warn' });
const total = noCounts();
console.log('| clip | face frames | carried | ' + KINDS.join(' | ') + ' |');
console.log('| --- | --- | --- | ' + KINDS.map(() => '---').join(' | ') + ' |');
for (const { set, name } of clipFiles()) {
  const counts = noCounts();
  await recordingSignals(engine, join(faceDataRoot(), set, `${name}.mp4`), logger, (f) => {
    const face = f.faces[0];
    if (!face) return;
    const c = counts[kindOf(face, closedBelow)];
    c.frames++;
    if (face.boxSource === 'landmarks') c.carried++;
  });
  const { frames, carried } = sum(counts);
  for (const k of KINDS) {
    total[k].frames += counts[k].frames;
    total[k].carried += counts[k].carried;
  }
  console.log(`| ${name} | ${frames} | ${pct(carried, frames)} | ${KINDS.map((k) => `${counts[k].carried}/${counts[k].frames}`).join(' | ')} |`);
}
const all = sum(total);
console.log(`| all | ${all.frames} | ${pct(all.carried, all.frames)} | ${KINDS.map((k) => `${total[k].carried}/${total[k].frames} (${pct(total[k].carried, total[k].frames)})`).join(' | ')} |`);
await engine.stop();

function pct(n: number, d: number): string {
  return d === 0 ? '-' : `${Math.round((100 * n) / d)} %`;
}
