/** The analyze / match / eval commands as a user runs them: spawned `node bin/regterm.js`, JSON on stdout. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedImageFiles } from '../../fixtures/vision/generated.ts';
import { DATA, FACEAPI_DEMO } from './helpers.ts';
import { describeWithFaceData } from '../../face-data.ts';

const BIN = new URL('../../../bin/regterm.js', import.meta.url).pathname;

function regterm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const DEEPFACE = (f: string): string => join(DATA, 'deepface_unit_tests/images', f);

let FIX: Awaited<ReturnType<typeof generatedImageFiles>>;
beforeAll(async () => {
  FIX = await generatedImageFiles();
});
afterAll(() => FIX.remove());

describe('regterm analyze', () => {
  describeWithFaceData('on a face data photo', ['deepface_unit_tests'], () => {
    it('prints the documented JSON per image', async () => {
      const r = await regterm('analyze', DEEPFACE('img1.jpg'), join(FACEAPI_DEMO, 'sample1.jpg'), '--json');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.images).toHaveLength(2);
      expect(out.images[1].faces).toHaveLength(3);
      const f = out.images[0].faces[0];
      expect(Object.keys(f).sort()).toEqual(['antispoof', 'box', 'eyes', 'landmarks', 'pose', 'quality', 'score'].sort());
      expect(Object.keys(f.box)).toEqual(['x1', 'y1', 'x2', 'y2']);
      expect(f.landmarks).toHaveLength(68);
      expect(Object.keys(f.pose)).toEqual(['yaw', 'pitch', 'roll']);
      expect(f.eyes.left).toBeGreaterThanOrEqual(0);
      expect(f.eyes.left).toBeLessThanOrEqual(1);
      expect(f.antispoof).toBeGreaterThanOrEqual(0);
      expect(f.antispoof).toBeLessThanOrEqual(1);
      for (const k of ['faceWidth', 'interEyeDistance', 'sharpness', 'brightness', 'clippedFraction', 'centreOffsetX']) {
        expect(typeof f.quality[k]).toBe('number');
      }
    });
  });

  it('rejects a missing file and a corrupt image with one line and exit code 2', async () => {
    const missing = await regterm('analyze', '/nonexistent.jpg', '--json');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('regterm: /nonexistent.jpg: no such file\n');
    const corrupt = await regterm('analyze', FIX.corruptJpg);
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toMatch(/^regterm: .*corrupt\.jpg: not a decodable image .*\n$/);
    expect(corrupt.stderr.split('\n')).toHaveLength(2);
  });
});

describeWithFaceData('regterm match', ['deepface_unit_tests'], () => {
  it('same person: { similarity, threshold, same: true }; different people: same: false', async () => {
    const same = await regterm('match', DEEPFACE('img1.jpg'), DEEPFACE('img2.jpg'), '--json');
    expect(same.code).toBe(0);
    const s = JSON.parse(same.stdout);
    expect(s).toMatchObject({ same: true });
    expect(typeof s.similarity).toBe('number');
    expect(typeof s.threshold).toBe('number');
    const diff = await regterm('match', DEEPFACE('img1.jpg'), DEEPFACE('img13.jpg'), '--json');
    const d = JSON.parse(diff.stdout);
    expect(d.same).toBe(false);
    expect(d.similarity).toBeLessThan(s.similarity);
  });

  it('no face and two faces where one is required are clear errors', async () => {
    const none = await regterm('match', DEEPFACE('img1.jpg'), FIX.noFacePng, '--json');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no-face\.png: no face found\n$/);
    const two = await regterm('match', join(FACEAPI_DEMO, 'sample1.jpg'), DEEPFACE('img1.jpg'), '--single', '--json');
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/sample1\.jpg: more than one face; exactly one is required\n$/);
  });
});

describe('regterm eval', () => {
  describeWithFaceData('on the face data', ['deepface_unit_tests'], () => {
    it('verify prints accuracy, EER, threshold, TAR at FAR and failures for a pairs CSV', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'regterm-eval-'));
      try {
        const csv = join(dir, 'pairs.csv');
        await writeFile(
          csv,
          'file_a,file_b,same\nimages/img1.jpg,images/img2.jpg,1\nimages/img1.jpg,images/img13.jpg,0\n' +
            'images/img2.jpg,images/img4.jpg,1\nimages/img4.jpg,images/img13.jpg,0\n',
        );
        const r = await regterm('eval', 'verify', '--pairs', csv, '--root', join(DATA, 'deepface_unit_tests'), '--json');
        expect(r.code).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out).toMatchObject({ pairs: 4, accuracy: 1, eer: 0, failedToDetect: 0 });
        expect(Object.keys(out.tarAtFar)).toEqual(['1e-2', '1e-3']);
        expect(typeof out.threshold).toBe('number');
        expect(out.timing.perPairMs).toBeGreaterThan(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  it('without a subcommand it prints usage and exits 2', async () => {
    const r = await regterm('eval', '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^regterm: usage: regterm eval verify/);
  });
});

describe('regterm bench', () => {
  it('prints per-model medians, frame latencies and peak RSS', async () => {
    const r = await regterm('bench', '--json', '--iterations', '2');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect([out.width, out.height]).toEqual([640, 480]);
    for (const name of ['detect', 'landmark', 'eye', 'pose', 'liveness', 'feature']) {
      expect(out.models[name].medianMs).toBeGreaterThan(0);
      expect(out.models[name].p90Ms).toBeGreaterThanOrEqual(out.models[name].medianMs);
    }
    expect(out.frame.trackingMs).toBeGreaterThan(0);
    expect(out.frame.embedMs).toBeGreaterThan(0);
    expect(out.peakRssMb).toBeGreaterThan(50);
  });
});
