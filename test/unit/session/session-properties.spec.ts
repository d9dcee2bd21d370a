import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.ts';
import type { FaceTemplate } from '../../../src/vision/matcher.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { assessQuality } from '../../../src/session/quality.ts';
import { seededRandom } from '../../../src/session/random.ts';
import { RegistrationSession, type SessionInput, type SessionOutput } from '../../../src/session/session.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import { baseFace, isWiped, noisyCopy, prng, randomTemplate } from './synth.ts';

const policy = resolvePolicy();

type Step =
  | { kind: 'advance'; ms: number }
  | { kind: 'frame'; faces: number; yaw: number; eyes: number; luma: number; embed: boolean; other: boolean }
  | { kind: 'tick' }
  | { kind: 'reference'; unusable: boolean }
  | { kind: 'button'; button: 'cancel' | 'assist' }
  | { kind: 'error' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }) },
  // A good frontal face most of the time (so runs reach the challenges and the match), now and then anything.
  {
    weight: 150,
    arbitrary: fc.record({
      kind: fc.constant('frame' as const), faces: fc.constant(1), yaw: fc.constant(0), eyes: fc.constant(0.9),
      luma: fc.constant(120), embed: fc.boolean(), other: fc.constant(false),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('frame' as const),
      faces: fc.integer({ min: 0, max: 2 }),
      yaw: fc.double({ min: -45, max: 45, noNaN: true }),
      eyes: fc.double({ min: 0, max: 1, noNaN: true }),
      luma: fc.double({ min: 0, max: 255, noNaN: true }),
      embed: fc.boolean(),
      other: fc.boolean(),
    }),
  },
  { weight: 6, arbitrary: fc.constant({ kind: 'tick' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('reference' as const), unusable: fc.constantFrom(false, false, false, true) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('button' as const), button: fc.constantFrom('cancel' as const, 'assist' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'error' as const }) },
);

describe('RegistrationSession invariants under arbitrary input sequences', () => {
  it('one decided output at most, silence after it, every template wiped, time never runs backwards', () => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 500, size: 'max' }), fc.integer(), (steps, seed) => {
        const rand = prng(seed);
        const person = randomTemplate(rand);
        const other = randomTemplate(rand);
        const clock = new ManualClock(1000);
        const s = new RegistrationSession({ sessionId: 'p', nonce: 'n', policy, clock, random: seededRandom(String(seed)) });
        const given: FaceTemplate[] = [];
        const outputs: SessionOutput[] = [];
        const feed = (i: SessionInput): void => {
          const before = s.result;
          const out = s.handle(i);
          if (before !== undefined) expect(out).toEqual([]);
          outputs.push(...out);
        };
        feed({ type: 'start' });
        for (const st of steps) {
          if (st.kind === 'advance') clock.advance(st.ms);
          else if (st.kind === 'tick') feed({ type: 'tick' });
          else if (st.kind === 'button') feed({ type: 'button', button: st.button });
          else if (st.kind === 'error') feed({ type: 'error', reason: 'internal_error' });
          else if (st.kind === 'reference') {
            const t = noisyCopy(person, rand);
            if (!st.unusable) given.push(t);
            feed(st.unusable ? { type: 'reference_unusable', reason: 'reference_unreadable', detail: 'reference_unreadable' } : { type: 'reference', template: t });
          } else {
            clock.advance(33);
            const face = { ...baseFace(rand), yawDeg: st.yaw, leftEyeOpen: st.eyes, rightEyeOpen: st.eyes, faceLuma: st.luma };
            const embedding = st.embed && st.faces > 0 ? noisyCopy(st.other ? other : person, rand) : undefined;
            if (embedding) given.push(embedding);
            const frame: FrameSignals = st.faces === 0
              ? { tsMs: clock.now(), frameWidth: 640, frameHeight: 480, faceCount: 0 }
              : { tsMs: clock.now(), frameWidth: 640, frameHeight: 480, faceCount: st.faces, face: { ...face, ...(embedding ? { embedding } : {}) } };
            feed({ type: 'frame', frame, quality: assessQuality(frame, policy.quality) });
          }
        }
        // The session deadline always ends it.
        clock.advance(policy.sessionTimeoutMs);
        feed({ type: 'tick' });
        const decided = outputs.filter((o) => o.type === 'decided');
        expect(decided).toHaveLength(1);
        expect(s.state).toBe('decided');
        expect(given.every(isWiped)).toBe(true);
        const times = outputs.flatMap((o) => (o.type === 'decided' ? [] : [o.atMs]));
        expect(times).toEqual([...times].sort((a, b) => a - b));
        const r = s.result!;
        expect(r.finishedAtMs - r.startedAtMs).toBe(r.timings.total);
        for (const o of outputs) if (o.type === 'progress') reached.add(o.state);
        reached.add(`${r.decision}/${r.decidedBy}`);
      }),
      { numRuns: 150, seed: 42 },
    );
    // The generator must actually exercise the machine, not only the first states.
    expect(reached).toContain('challenges');
    expect([...reached].filter((k) => k.includes('/')).length).toBeGreaterThanOrEqual(6);
  });
});
