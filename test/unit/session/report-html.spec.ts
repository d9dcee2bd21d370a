import { describe, expect, it } from 'vitest';
import { ReportCollector } from '../../../src/session/report-html.ts';
import type { AnalysedFrame } from '../../../src/session/runner.ts';
import type { FaceSignals } from '../../../src/session/signals.ts';
import type { FaceAnalysis } from '../../../src/vision/engine.ts';

const W = 64;
const H = 48;
const BOX = { x1: 16, y1: 8, x2: 48, y2: 40 };

/** A frame at `tsMs`: a face with `antispoof` (undefined = not scored on this frame), or no face at all (null). */
function frame(tsMs: number, antispoof: number | undefined | null, lids: Partial<Pick<FaceSignals, 'leftLidOpen' | 'rightLidOpen'>> = {}): AnalysedFrame {
  const image = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(90) };
  if (antispoof === null) return { tsMs, image, faces: [], signals: { tsMs, frameWidth: W, frameHeight: H, faceCount: 0 } };
  const face: FaceSignals = {
    box: BOX, yawDeg: 0, pitchDeg: 0, rollDeg: 0, leftEyeOpen: 0.9, rightEyeOpen: 0.9, faceLuma: 120,
    quality: { sharpness: 500 }, ...(antispoof === undefined ? {} : { antispoof }), ...lids,
  };
  const analysis = { box: BOX, landmarks68: new Float32Array(136).fill(30) } as FaceAnalysis;
  return { tsMs, image, faces: [analysis], signals: { tsMs, frameWidth: W, frameHeight: H, faceCount: 1, face } };
}

/** The point lists of one timeline lane's polylines. */
function lane(html: string, key: string): string[][] {
  const svg = html.match(new RegExp(`<svg class="lane" data-series="${key}"[^]*?</svg>`))?.[0] ?? '';
  return [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1].split(' '));
}

describe('replay report timeline', () => {
  it('skips face frames without an anti-spoof score (joins the scored ones); a frame without a face breaks the line', async () => {
    const r = new ReportCollector();
    const scores = [0.9, undefined, 0.8, undefined, 0.7, null, 0.6, undefined, 0.5];
    scores.forEach((s, i) => r.frame(frame(i * 40, s)));
    const html = await r.render({ title: 't', notes: [] }, []);
    expect(lane(html, 'antispoof').map((pts) => pts.length)).toEqual([3, 2]);
    // the other lanes have a value on every face frame: the same break, every face frame drawn
    expect(lane(html, 'yaw').map((pts) => pts.length)).toEqual([5, 3]);
  });

  it('draws the iris lid lane from the frames that have a lid reading: the more open measured eye', async () => {
    const r = new ReportCollector();
    const readings = [{}, { leftLidOpen: 1, rightLidOpen: 0.9 }, {}, { rightLidOpen: 0.2 }, {}, { leftLidOpen: 0.5, rightLidOpen: 0.95 }];
    readings.forEach((l, i) => r.frame(frame(i * 40, 0.9, l)));
    const html = await r.render({ title: 't', notes: [] }, []);
    const [pts] = lane(html, 'lids');
    expect(pts).toHaveLength(3);
    // lane height 90 px over 0..1.2: 1.0 -> y 15, 0.2 -> y 75, 0.95 -> y 18.75
    expect(pts.map((p) => Number(p.split(',')[1]))).toEqual([15, 75, 18.8]);
  });
});
