/**
 * HIL: the reference intake on real photos. ID portraits are cropped tight to the face; analysed as given, the
 * detector's box is cut at the image edge and the pose model reads frontal faces as turned 30-55 deg (17 of NUAA's
 * 220 live photos, all frontal webcam captures, were refused as face_not_frontal). The intake analyses the photo on a
 * border (REFERENCE_BORDER in src/session/reference-intake.ts); these tests show both halves of that.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { referenceIssue, referenceTemplate } from '../../../src/session/reference-intake.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { readImageFile } from '../../../src/vision/image-file.ts';
import { DATA } from '../vision/helpers.ts';
import { describeWithFaceData } from '../../face-data.ts';

const TIGHT = ['0004/0004_01_06_03_97.jpg', '0007/0007_01_00_01_108.jpg', '0008/0008_00_00_02_256.jpg', '0013/0013_01_07_03_251.jpg']
  .map((f) => join(DATA, 'nuaa_imposter_subset', 'real', f));
const FRAMED = join(DATA, 'deepface_unit_tests', 'images', 'img1.jpg');

const engine = new FaceEngine();
beforeAll(() => engine.start());
afterAll(() => engine.stop());

describeWithFaceData('reference intake on real photos', ['nuaa_imposter_subset', 'deepface_unit_tests'], () => {
  it('tight portraits: refused as not frontal when analysed as given, usable through the intake', async () => {
    for (const file of TIGHT) {
      const asGiven = await engine.analyzeFrame(await readImageFile(file), { maxFaces: 2 });
      expect(asGiven).toHaveLength(1);
      expect(referenceIssue(asGiven[0])).toBe('face_not_frontal');
      const bytes = new Uint8Array(await readFile(file));
      const outcome = await referenceTemplate(engine, bytes);
      expect(outcome, file).toMatchObject({ ok: true });
      expect(bytes.every((b) => b === 0)).toBe(true);
    }
  });

  it('a normally framed photo gives the same identity through the intake as analysed as given', async () => {
    const img = await readImageFile(FRAMED);
    const [face] = await engine.analyzeFrame(img, { maxFaces: 1 });
    const direct = await engine.embed(img, face);
    const outcome = await referenceTemplate(engine, new Uint8Array(await readFile(FRAMED)));
    if (!outcome.ok) throw new Error(`reference refused: ${outcome.reason}`);
    expect(engine.compare(direct, outcome.template).similarity).toBeGreaterThan(2 * engine.fusion.threshold);
  });
});
