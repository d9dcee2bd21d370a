import { describe, expect, it } from 'vitest';
import { BlinkDetector, type BlinkEvent } from '../../../src/session/detectors/blink.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import { blinkEyes, clip, withEyes } from './synth.ts';

const policy = resolvePolicy();

function run(frames: FrameSignals[]): BlinkEvent[] {
  const d = new BlinkDetector(policy.blink);
  const out: BlinkEvent[] = [];
  for (const f of frames) {
    const e = d.push(f.tsMs, f.faceCount > 0 ? f.face : undefined);
    if (e) out.push(e);
  }
  return out;
}

/** Blinks (start ms, duration ms, depth) on a noisy open-eyed face. */
function blinks(list: Array<[number, number, number?]>, extra: Partial<Parameters<typeof clip>[0]> = {}): FrameSignals[] {
  return clip({
    durationMs: 4000,
    jitterMs: 3,
    ...extra,
    face: (t, base, rand) => {
      for (const [t0, dur, depth] of list) {
        const v = blinkEyes(t, t0, dur, depth);
        if (v !== undefined) return withEyes(base, v, rand);
      }
      return base;
    },
  });
}

describe('BlinkDetector', () => {
  it('detects natural blinks with their timing', () => {
    const events = run(blinks([[500, 200], [1800, 300], [3000, 150]]));
    expect(events).toHaveLength(3);
    const starts = events.map((e) => e.startMs);
    expect(starts[0]).toBeGreaterThanOrEqual(500);
    expect(starts[0]).toBeLessThan(600);
    expect(events[1].endMs - events[1].startMs).toBeLessThan(300);
    expect(events[2].startMs).toBeGreaterThanOrEqual(3000);
  });

  it('detects blinks at 15 fps and with 20% of the frames dropped', () => {
    expect(run(blinks([[500, 250], [2000, 250]], { fps: 15 }))).toHaveLength(2);
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(run(blinks([[500, 300], [2000, 300]], { dropRate: 0.2, seed })).length).toBeGreaterThanOrEqual(1);
    }
  });

  it('counts a single fully closed frame between open frames (fast blink at 30 fps)', () => {
    const frames = clip({ durationMs: 1000, face: (t, base, rand) => (Math.abs(t - 500) < 10 ? withEyes(base, 0.05, rand) : base) });
    expect(run(frames)).toHaveLength(1);
  });

  it('ignores noise, partial blinks, winks and long closures', () => {
    expect(run(clip({ durationMs: 20_000, seed: 7 }))).toEqual([]);
    expect(run(blinks([[500, 250, 0.45], [2000, 300, 0.4]]))).toEqual([]);
    const wink = clip({ durationMs: 2000, face: (t, base) => (t > 500 && t < 800 ? { ...base, leftEyeOpen: 0.02 } : base) });
    expect(run(wink)).toEqual([]);
    expect(run(blinks([[500, 2000]]))).toEqual([]);
  });

  it('hysteresis: eyes fluttering between the thresholds never count, however often', () => {
    const flutter = clip({ durationMs: 3000, face: (t, base, rand) => (t > 300 ? withEyes(base, t % 200 < 100 ? 0.35 : 0.55, rand) : base) });
    expect(run(flutter)).toEqual([]);
  });

  it('an eye-state model flipping closed/open frame to frame (drowsy flutter) is one long closure, not blinks', () => {
    const flutter = clip({
      durationMs: 4000,
      face: (t, base, rand) => (t > 1000 && t < 3000 && Math.round(t / 33.33) % 2 === 0 ? withEyes(base, 0.02, rand) : t > 1000 && t < 3000 ? { ...base, leftEyeOpen: 0.02 } : base),
    });
    expect(run(flutter)).toEqual([]);
  });

  it('both eyes take part: a closure that begins while one eye is already shut (wink ending) is not a blink', () => {
    const wink = clip({
      durationMs: 2000,
      face: (t, base) => (t > 500 && t < 1100 ? { ...base, rightEyeOpen: 0.05, leftEyeOpen: t > 900 ? 0.02 : base.leftEyeOpen } : base),
    });
    expect(run(wink)).toEqual([]);
  });

  it('the two eyes may read closed on different frames of a fast blink (independent per-eye model)', () => {
    const frames = clip({
      durationMs: 1500,
      face: (t, base) => {
        if (t >= 600 && t < 633) return { ...base, leftEyeOpen: 0.5, rightEyeOpen: 0.05 };
        if (t >= 633 && t < 666) return { ...base, leftEyeOpen: 0.9, rightEyeOpen: 0.3 };
        if (t >= 666 && t < 700) return { ...base, leftEyeOpen: 0.05, rightEyeOpen: 0.95 };
        return base;
      },
    });
    expect(run(frames)).toHaveLength(1);
    const oneEye = clip({ durationMs: 1500, face: (t, base) => (t >= 600 && t < 700 ? { ...base, rightEyeOpen: 0.05, leftEyeOpen: 0.5 } : base) });
    expect(run(oneEye)).toEqual([]);
  });

  it('a double blink with ~120 ms of open eyes in between is two blinks', () => {
    expect(run(blinks([[1000, 200], [1320, 200]]))).toHaveLength(2);
  });

  it('a blink must start from open eyes: starting closed then opening is not a blink', () => {
    const frames = clip({ durationMs: 1500, face: (t, base, rand) => (t < 200 ? withEyes(base, 0.05, rand) : base) });
    expect(run(frames)).toEqual([]);
  });

  it('lid veto: a closure whose lids BOTH read >= lidOpenAbove of their open level is not a blink, whatever fr_eye says', () => {
    // half-lidded glance: the eye-state model reads both eyes closed for 100 ms, the lids stay at 80-90 % of open
    const lids = (l: number, r: number) => (f: FrameSignals): FrameSignals => (f.face ? { ...f, face: { ...f.face, leftLidOpen: l, rightLidOpen: r } } : f);
    const glance = blinks([[600, 100]]);
    const inside = (f: FrameSignals): boolean => f.tsMs >= 600 && f.tsMs < 700;
    expect(run(glance)).toHaveLength(1); // without lid readings: fr_eye alone decides, as before
    expect(run(glance.map((f) => (inside(f) ? lids(0.85, 0.8)(f) : f)))).toEqual([]);
    // the edge: both lids exactly at lidOpenAbove read open; just below it on one eye they do not
    const at = policy.blink.lidOpenAbove;
    expect(run(glance.map((f) => (inside(f) ? lids(at, at)(f) : f)))).toEqual([]);
    expect(run(glance.map((f) => (inside(f) ? lids(at - 0.01, 0.95)(f) : f)))).toHaveLength(1);
    // one lid measured closed confirms the pair: the lids close together, and a hooded eye's lid can read open
    expect(run(glance.map((f) => (inside(f) ? lids(0.2, 0.9)(f) : f)))).toHaveLength(1);
    expect(run(glance.map((f) => (inside(f) ? lids(0.9, 0.2)(f) : f)))).toHaveLength(1);
    // a real blink: the lids close too, so nothing is vetoed
    expect(run(glance.map((f) => (inside(f) ? lids(0.2, 0.3)(f) : f)))).toHaveLength(1);
    // the veto applies per frame: an eye closed by both cues on one frame of the closure counts
    const mixed = glance.map((f) => (inside(f) ? lids(f.tsMs < 650 ? 0.9 : 0.2, f.tsMs < 650 ? 0.9 : 0.2)(f) : f));
    expect(run(mixed)).toHaveLength(1);
  });

  it('lid veto never splits a closure: "open" stays the eye-state model\'s call', () => {
    // a 1.2 s closure (eyes_closed, too long for a blink) with open-looking lid readings in its middle
    const long = blinks([[600, 1200]]).map((f) => (f.face && f.tsMs >= 1100 && f.tsMs < 1300 ? { ...f, face: { ...f.face, leftLidOpen: 1, rightLidOpen: 1 } } : f));
    expect(run(long)).toEqual([]);
  });

  it('an eye the lids measure open counts as open for the bilateral test (a blink from downcast eyes)', () => {
    // eyes cast down from 400 ms: fr_eye reads the right eye shut, the lids stay at 85 % of open; a blink at 900 ms
    const frames = clip({
      durationMs: 2000,
      face: (t, base, rand) => {
        if (t >= 900 && t < 1000) return withEyes(base, 0.03, rand);
        if (t >= 400 && t < 1300) return { ...base, rightEyeOpen: 0.1, rightLidOpen: 0.85 };
        return base;
      },
    });
    expect(run(frames)).toHaveLength(1);
    const noLids = frames.map((f) => (f.face ? { ...f, face: { ...f.face, rightLidOpen: undefined } } : f));
    expect(run(noLids)).toEqual([]); // the eye-state model alone: the right eye was shut before the closure
  });

  it('forgets a blink in progress across a hole in the timestamps or a lost face', () => {
    const hole = blinks([[500, 250]]).filter((f) => f.tsMs < 520 || f.tsMs > 820);
    expect(run(hole)).toEqual([]);
    const lost = blinks([[500, 250]]).map((f) => (f.tsMs > 560 && f.tsMs < 640 ? { ...f, faceCount: 0, face: undefined } : f));
    expect(run(lost)).toEqual([]);
  });
});
