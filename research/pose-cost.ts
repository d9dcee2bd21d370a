/**
 * Per-frame cost of fr_pose on every tracked frame (an open turn challenge, face-tracker.ts poseEveryFrame) against
 * the hybrid track, on the bench frame (`regterm bench`'s default photo scaled to 640×480): consecutive
 * `next` calls on one face tracker, the two modes in alternating blocks of 20 frames (so machine load falls on
 * both alike), one warm-up block each. Prints median / p90 / mean ms per mode.
 *   npx tsx research/pose-cost.ts [--blocks 10]
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { FaceEngine } from '../src/vision/engine.ts';
import { coverResize } from '../src/vision/image.ts';
import { readImageFile } from '../src/vision/image-file.ts';

const { values } = parseArgs({ options: { blocks: { type: 'string', default: '10' } } });
const photo = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');
const img = await coverResize(await readImageFile(photo), 640, 480);
const engine = new FaceEngine();
await engine.start();
const ms: Record<'hybrid' | 'everyFrame', number[]> = { hybrid: [], everyFrame: [] };
try {
  for (let b = -1; b < Number(values.blocks); b++) {
    for (const mode of ['hybrid', 'everyFrame'] as const) {
      const tracker = engine.tracker();
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        await tracker.next(img, { maxFaces: 1, tsMs: i * 33, poseEveryFrame: mode === 'everyFrame' });
        if (b >= 0) ms[mode].push(performance.now() - t0);
      }
    }
  }
} finally {
  await engine.stop();
}
for (const [mode, xs] of Object.entries(ms)) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): string => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2);
  process.stdout.write(`${mode}: frames ${s.length} median ${q(0.5)} ms p90 ${q(0.9)} ms mean ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2)} ms\n`);
}
