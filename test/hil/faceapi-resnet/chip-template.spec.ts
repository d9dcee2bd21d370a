/**
 * The dlib chip templates against real dlib chips: dlib_johns images ARE dlib `extract_image_chip(img,
 * get_face_chip_details(shape, 150, 0.25))` outputs, so running our detector + 68 landmarks on them and fitting
 * landmarks → template must give (nearly) the identity transform. A wrong template (padding, size, point order,
 * landmark subset) shows up here as scale, rotation or shift.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readLabels } from '../../../scripts/faceapi-chips.ts';
import { fivePoints, similarityTransform, type Point } from '../../../src/vision/align.ts';
import { dlibChipTemplate5, dlibChipTemplate68 } from '../../../scripts/faceapi-embedder.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { decodeImage } from '../../../src/vision/image.ts';
import { LandmarkModel } from '../../../src/vision/landmarks.ts';
import type { Affine } from '../../../src/vision/warp.ts';
import { describeWithFaceData } from '../../face-data.ts';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** How far a chip→chip similarity is from the identity: |scale - 1|, |rotation| in degrees, shift of the centre in px. */
function offIdentity(m: Affine): { scale: number; degrees: number; shift: number } {
  const [a, , c, d, , f] = m;
  const cx = a * 75 - d * 75 + c - 75;
  const cy = d * 75 + a * 75 + f - 75;
  return { scale: Math.abs(Math.hypot(a, d) - 1), degrees: Math.abs((Math.atan2(d, a) * 180) / Math.PI), shift: Math.hypot(cx, cy) };
}

describeWithFaceData('dlib chip templates on real dlib chips (dlib_johns)', ['dlib_johns'], () => {
  const engine = new FaceEngine();
  let landmarks: LandmarkModel;
  const fits68: ReturnType<typeof offIdentity>[] = [];
  const fits5: ReturnType<typeof offIdentity>[] = [];

  beforeAll(async () => {
    await engine.start();
    landmarks = new LandmarkModel(await engine.registry.load('landmark'));
    const t68 = dlibChipTemplate68();
    for (const l of readLabels('dlib_johns')) {
      const img = await decodeImage(await readFile(l.file), l.file);
      const [det] = await engine.detect(img);
      if (!det) continue;
      const lm = await landmarks.predict(img, det.box);
      const src = t68.landmarks.map((i): Point => [lm[2 * i], lm[2 * i + 1]]);
      fits68.push(offIdentity(similarityTransform(src, t68.points)));
      fits5.push(offIdentity(similarityTransform(fivePoints(lm), dlibChipTemplate5())));
    }
  });
  afterAll(() => engine.stop());

  it('finds a face on nearly every chip', () => {
    expect(fits68.length).toBeGreaterThanOrEqual(30);
  });

  for (const [name, fits] of [['33-landmark', fits68], ['5-point', fits5]] as const) {
    it(`${name} template: median fit within 3% scale, 1.5 degrees and 3 px of the identity`, () => {
      expect(median(fits.map((f) => f.scale))).toBeLessThan(0.03);
      expect(median(fits.map((f) => f.degrees))).toBeLessThan(1.5);
      expect(median(fits.map((f) => f.shift))).toBeLessThan(3);
    });
  }
});
