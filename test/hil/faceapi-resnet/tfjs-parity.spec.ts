/**
 * The ONNX build against face-api's own tfjs forward pass, on real faces (read in place from the shared data).
 * tfjs' pure-JS cpu backend takes ~0.8 s per chip here, so this runs a fixed sample: the first two chips of every
 * identity in dlib_johns (colour, dlib-aligned) and faceapi_bbt_characters (grayscale). The full 58-chip comparison
 * is `node --import tsx research/verify-faceapi-resnet.ts`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { evalFolder } from '../../../scripts/eval-faceapi-chips.ts';
import { readChip, readLabels, tfjsDescriptors, type LabelledFile } from '../../../scripts/faceapi-chips.ts';
import { FaceapiEmbedder } from '../../../scripts/faceapi-embedder.ts';
import { describeWithFaceData } from '../../face-data.ts';

function firstPerIdentity(labels: LabelledFile[], n: number): LabelledFile[] {
  const seen = new Map<string, number>();
  return labels.filter((l) => {
    const k = seen.get(l.identity) ?? 0;
    seen.set(l.identity, k + 1);
    return k < n;
  });
}

describeWithFaceData('faceapi-resnet on real faces', ['dlib_johns', 'faceapi_bbt_characters'], () => {
  const embedder = new FaceapiEmbedder();
  beforeAll(() => embedder.start());
  afterAll(() => embedder.stop());

  it('matches face-api tfjs descriptors to 1e-4 (max abs difference over all 128 values)', async () => {
    const files = [...firstPerIdentity(readLabels('dlib_johns'), 2), ...firstPerIdentity(readLabels('faceapi_bbt_characters'), 2)];
    expect(files.length).toBe(16);
    const chips = await Promise.all(files.map((f) => readChip(f.file)));
    const reference = await tfjsDescriptors(chips);
    expect(reference).toHaveLength(chips.length);
    let maxAbs = 0;
    for (let i = 0; i < chips.length; i++) {
      const chw = new Float32Array(3 * 22500);
      for (let p = 0; p < 22500; p++) for (let c = 0; c < 3; c++) chw[c * 22500 + p] = chips[i][p * 3 + c];
      const onnx = await embedder.embedRaw(chw);
      for (let k = 0; k < 128; k++) maxAbs = Math.max(maxAbs, Math.abs(onnx[k] - reference[i][k]));
    }
    expect(maxAbs).toBeLessThanOrEqual(1e-4);
  }, 120_000);

  it('separates the three Johns (dlib-aligned chips) with EER <= 1%', async () => {
    const s = await evalFolder(embedder, 'dlib_johns');
    expect(s.same).toBe(165);
    expect(s.different).toBe(363);
    expect(s.meanSame).toBeGreaterThan(s.meanDifferent);
    expect(s.eer).toBeLessThanOrEqual(0.01);
  });

  it('separates the five grayscale bbt characters with EER <= 5%', async () => {
    const s = await evalFolder(embedder, 'faceapi_bbt_characters');
    expect(s.eer).toBeLessThanOrEqual(0.05);
  });
});
