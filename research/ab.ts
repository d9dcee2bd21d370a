/**
 * The vision code of a git revision (A) against the working tree (B), on the same models (models/manifest.json):
 *
 *   node --import tsx research/ab.ts REV [--every N] [--iterations N] [--image FILE]
 *
 * 1. Outputs: FaceEngine.analyzeFrame on the evaluation photos (scripts/models/sets.ts: LFW view1 pairs' images and
 *    NUAA subjects 0002-0013, every N-th; each as decoded and as a 640x480 camera frame) must be IDENTICAL field by
 *    field (boxes, scores, landmarks, pose, eyes, quality, anti-spoof): a speed change to src/vision may not move a
 *    result. Exit code 1 when any frame differs.
 * 2. Speed: the tracking stage (analyzeFrame, largest face) on the bench photo as a 640x480 frame, A and B taking
 *    turns call by call so load from other processes falls on both alike; medians and the median paired difference.
 *
 * REV's src/ is extracted with `git archive` into a temp dir (removed at the end); the face data is read in place.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FaceEngine } from '../src/vision/engine.ts';
import { coverResize } from '../src/vision/image.ts';
import { readImageFile } from '../src/vision/image-file.ts';
import { quantile } from '../scripts/models/measure.ts';
import { lfwPairs, nuaaEval } from '../scripts/models/sets.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MANIFEST = join(ROOT, 'models', 'manifest.json');

type Engine = Pick<FaceEngine, 'start' | 'stop' | 'analyzeFrame'>;

/** src/ of `rev` in a temp dir that resolves packages from this checkout's node_modules. */
function extract(rev: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'regterm-ab-'));
  const archive = spawnSync('git', ['-C', ROOT, 'archive', '--format=tar', rev, 'src'], { maxBuffer: 1 << 28 });
  if (archive.status !== 0) throw new Error(`git archive ${rev}: ${archive.stderr.toString().trim()}`);
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr.toString().trim()}`);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** analyzeFrame's result as text, typed arrays spelled out, so equal text means equal values. */
function text(faces: unknown): string {
  return JSON.stringify(faces, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { every: { type: 'string', default: '20' }, iterations: { type: 'string', default: '200' }, image: { type: 'string' } },
  });
  const rev = positionals[0];
  if (!rev) throw new Error('usage: research/ab.ts REV [--every N] [--iterations N] [--image FILE]');
  const every = Number(values.every);
  const iterations = Number(values.iterations);
  const dir = extract(rev);
  try {
    const { FaceEngine: EngineA } = (await import(pathToFileURL(join(dir, 'src/vision/engine.ts')).href)) as {
      FaceEngine: new (o: { manifestPath: string }) => Engine;
    };
    const a = new EngineA({ manifestPath: MANIFEST });
    const b = new FaceEngine({ manifestPath: MANIFEST });
    await a.start();
    await b.start();
    try {
      const files = [...new Set(lfwPairs(every).flatMap((p) => [p.a, p.b]))].concat(nuaaEval(every).map((n) => n.file));
      let frames = 0;
      let faces = 0;
      const differing: string[] = [];
      for (const f of files) {
        const img = await readImageFile(f);
        for (const frame of [img, await coverResize(img, 640, 480)]) {
          const x = await a.analyzeFrame(frame);
          const y = await b.analyzeFrame(frame);
          frames++;
          faces += x.length;
          if (text(x) !== text(y)) differing.push(`${f} (${frame.width}x${frame.height})`);
        }
      }
      const require = createRequire(import.meta.url);
      const photo = values.image ?? join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');
      const frame = await coverResize(await readImageFile(photo), 640, 480);
      const ta: number[] = [];
      const tb: number[] = [];
      for (let i = 0; i < iterations + 5; i++) {
        let t0 = performance.now();
        await a.analyzeFrame(frame, { maxFaces: 1 });
        const da = performance.now() - t0;
        t0 = performance.now();
        await b.analyzeFrame(frame, { maxFaces: 1 });
        const db = performance.now() - t0;
        if (i < 5) continue;
        ta.push(da);
        tb.push(db);
      }
      const r = (x: number): number => Math.round(x * 100) / 100;
      const report = {
        rev,
        outputs: { images: files.length, frames, faces, framesDiffering: differing.length, differing: differing.slice(0, 10) },
        trackingMs: {
          image: photo,
          iterations,
          a: { median: r(quantile(ta, 0.5)), p10: r(quantile(ta, 0.1)) },
          b: { median: r(quantile(tb, 0.5)), p10: r(quantile(tb, 0.1)) },
          medianPairedSaving: r(quantile(ta.map((x, i) => x - tb[i]), 0.5)),
        },
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return differing.length === 0 ? 0 : 1;
    } finally {
      await a.stop();
      await b.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
