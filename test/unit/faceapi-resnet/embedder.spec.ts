import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegtermError, EXIT, ModelIntegrityError } from '../../../src/lib/errors.ts';
import {
  DEFAULT_FACEAPI_RESNET_PATH,
  dlibChipTemplate5,
  dlibChipTemplate68,
  FaceapiEmbedder,
  mirrorPlanar,
} from '../../../scripts/faceapi-embedder.ts';
import { cosine } from '../../../src/vision/matcher.ts';

/** A deterministic synthetic 150x150 RGB pattern (not a face): enough to exercise shapes and invariants. */
function pattern(seed: number): Uint8Array {
  const chip = new Uint8Array(150 * 150 * 3);
  for (let i = 0; i < chip.length; i++) chip[i] = (i * (7 + seed) + ((i / 450) | 0) * 13 * seed) % 256;
  return chip;
}

const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('FaceapiEmbedder', () => {
  const embedder = new FaceapiEmbedder();
  beforeAll(() => embedder.start());
  afterAll(() => embedder.stop());

  it('returns a unit-length 128-d vector, the same for the same chip', async () => {
    const a = await embedder.embedChip(pattern(1));
    const b = await embedder.embedChip(pattern(1));
    expect(a).toHaveLength(128);
    expect(norm(a)).toBeCloseTo(1, 5);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('embedChip (HWC uint8) equals embedTensor on the planar copy, and differs between inputs', async () => {
    const chip = pattern(2);
    const chw = new Float32Array(3 * 150 * 150);
    for (let p = 0; p < 150 * 150; p++) for (let c = 0; c < 3; c++) chw[c * 22500 + p] = chip[p * 3 + c];
    const fromChip = await embedder.embedChip(chip);
    const fromTensor = await embedder.embedTensor(chw);
    for (let i = 0; i < 128; i++) expect(fromChip[i]).toBeCloseTo(fromTensor[i], 6);
    const other = await embedder.embedChip(pattern(3));
    expect(cosine(fromChip, other)).toBeLessThan(0.9999);
  });

  it('runs concurrent calls without mixing their inputs', async () => {
    const [a, b] = await Promise.all([embedder.embedChip(pattern(4)), embedder.embedChip(pattern(5))]);
    expect(Array.from(a)).toEqual(Array.from(await embedder.embedChip(pattern(4))));
    expect(Array.from(b)).toEqual(Array.from(await embedder.embedChip(pattern(5))));
  });

  it('rejects a chip of the wrong size', async () => {
    await expect(embedder.embedChip(new Uint8Array(100 * 100 * 3))).rejects.toThrow(RangeError);
  });
});

describe('FaceapiEmbedder test-time flip', () => {
  const plain = new FaceapiEmbedder();
  const flip = new FaceapiEmbedder({ flip: true });
  beforeAll(async () => {
    await plain.start();
    await flip.start();
  });
  afterAll(async () => {
    await plain.stop();
    await flip.stop();
  });

  const planar = (chip: Uint8Array): Float32Array => {
    const chw = new Float32Array(3 * 22500);
    for (let p = 0; p < 22500; p++) for (let c = 0; c < 3; c++) chw[c * 22500 + p] = chip[p * 3 + c];
    return chw;
  };

  it('mirrorPlanar reverses each row of each plane and is its own inverse', () => {
    const t = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
    expect(Array.from(mirrorPlanar(t, 3))).toEqual([2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9]);
    expect(Array.from(mirrorPlanar(mirrorPlanar(t, 3), 3))).toEqual(Array.from(t));
  });

  it('gives a chip and its mirror image the same unit embedding, which the plain model does not', async () => {
    const chw = planar(pattern(6));
    const mirrored = mirrorPlanar(chw, 150);
    const a = await flip.embedTensor(chw);
    const b = await flip.embedTensor(mirrored);
    expect(norm(a)).toBeCloseTo(1, 5);
    expect(cosine(a, b)).toBeGreaterThan(1 - 1e-6);
    expect(cosine(await plain.embedTensor(chw), await plain.embedTensor(mirrored))).toBeLessThan(1 - 1e-4);
  });
});

describe('FaceapiEmbedder model integrity', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faceapi-resnet-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses a model file whose bytes changed, with ModelIntegrityError and the models exit code', async () => {
    const bytes = await readFile(DEFAULT_FACEAPI_RESNET_PATH);
    bytes[bytes.length - 1] ^= 1;
    const path = join(dir, 'tampered.onnx');
    await writeFile(path, bytes);
    const e = await new FaceapiEmbedder({ modelPath: path }).start().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ModelIntegrityError);
    expect(isRegtermError(e) && e.exitCode).toBe(EXIT.models);
    expect(String(e)).toMatch(/refusing to load/);
  });

  it('refuses a missing model file with ModelIntegrityError', async () => {
    await expect(new FaceapiEmbedder({ modelPath: join(dir, 'absent.onnx') }).start()).rejects.toBeInstanceOf(ModelIntegrityError);
  });

  it('refuses to embed before start()', async () => {
    await expect(new FaceapiEmbedder().embedChip(pattern(1))).rejects.toThrow(/start\(\)/);
  });
});

describe('dlib chip templates', () => {
  it('68-point: the 33 landmarks get_face_chip_details fits, mirror-symmetric about the chip centre line', () => {
    const { landmarks, points } = dlibChipTemplate68();
    expect(landmarks).toHaveLength(33);
    expect(landmarks.some((i) => i < 27 || (i >= 55 && i <= 59) || i >= 65)).toBe(false);
    // nose bridge 27..30 sits on dlib's mean-face midline x = 0.490127 → (0.25 + 0.490127) / 1.5 * 150
    for (const i of [27, 28, 29, 30]) expect(points[landmarks.indexOf(i)][0]).toBeCloseTo(74.0127, 4);
  });

  it('5-point: eye centres, nose tip and mouth corners in fivePoints order, level and symmetric', () => {
    const [le, re, nose, ml, mr] = dlibChipTemplate5();
    expect(le[1]).toBeCloseTo(re[1], 6);
    expect(ml[1]).toBeCloseTo(mr[1], 6);
    expect((le[0] + re[0]) / 2).toBeCloseTo(nose[0], 3);
    expect(le[0]).toBeLessThan(re[0]);
    expect(le[1]).toBeLessThan(nose[1]);
    expect(nose[1]).toBeLessThan(ml[1]);
    expect(le[0]).toBeCloseTo(47.5492, 3);
    expect(mr[1]).toBeCloseTo(103.0233, 3);
  });

  it('scales with size and padding as dlib does: (padding + mean) / (1 + 2·padding) · size', () => {
    const a = dlibChipTemplate5(150, 0.25);
    const b = dlibChipTemplate5(300, 0);
    for (let i = 0; i < 5; i++) {
      expect(a[i][0]).toBeCloseTo((0.25 + b[i][0] / 300) * 100, 6);
      expect(a[i][1]).toBeCloseTo((0.25 + b[i][1] / 300) * 100, 6);
    }
  });
});
