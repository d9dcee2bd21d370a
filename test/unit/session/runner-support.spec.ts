import { describe, expect, it } from 'vitest';
import { resultDecisionSchema } from '../../../src/carrier/protocol.ts';
import { planChallenges } from '../../../src/session/challenges.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { assessQuality } from '../../../src/session/quality.ts';
import { seededRandom } from '../../../src/session/random.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import { EmbedSelector, deploymentPolicyBase, panelPattern, toResultDecision } from '../../../src/session/runner-support.ts';

describe('runner support', () => {
  it('a forced (ordered) script keeps the given order under every seed; the default shuffles', () => {
    const set = ['turn_right', 'blink', 'turn_left'] as const;
    const ordered = resolvePolicy({ challenges: { set: [...set], required: [], ordered: true } });
    const shuffled = resolvePolicy({ challenges: { set: [...set], required: [], count: 3 } });
    const orders = new Set<string>();
    for (let i = 0; i < 20; i++) {
      expect(planChallenges(ordered, seededRandom(`s${i}`)).challenges.map((c) => c.type)).toEqual(set);
      orders.add(planChallenges(shuffled, seededRandom(`s${i}`)).challenges.map((c) => c.type).join());
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('prompt patterns keep only the LEDs the panel has', () => {
    const def = panelPattern({ kind: 'sequence', steps: [{ on: ['look'], ms: 500 }, { on: ['look', 'light'], ms: 200 }] }, ['look', 'busy']);
    expect(def.pattern).toEqual({ kind: 'sequence', steps: [{ on: ['look'], ms: 500 }, { on: ['look'], ms: 200 }] });
    expect(panelPattern({ kind: 'steady', on: ['look', 'light'] }, ['look']).pattern).toEqual({ kind: 'steady', on: ['look'] });
  });

  it('the deployment base carries the engine thresholds on the fused scale', () => {
    const p = resolvePolicy({}, deploymentPolicyBase({ fusion: { threshold: 2.5987 }, antispoofThreshold: 0.3134 }));
    expect(p.match).toMatchObject({ threshold: 2.5987, continuityThreshold: 3 });
    expect(p.antispoof.threshold).toBe(0.3134);
  });

  it('session results become carrier decisions with integer ms and ISO times', () => {
    const d = toResultDecision({
      sessionId: 's', nonce: 'n', decision: 'match', decidedBy: 'match', scores: { antispoofFrames: 9, match: 3.1 },
      thresholds: { match: 2.6, antispoof: 0.3, continuity: 3, light: 0.6 },
      challenges: [{ type: 'blink', passed: true, ms: 812.7 }], timings: { quality: 500.4, total: 4200.6 },
      startedAtMs: 1000.5, finishedAtMs: 5201.1,
    }, Date.UTC(2026, 0, 1));
    expect(resultDecisionSchema.parse(d)).toEqual(d);
    expect(d.challenges[0].ms).toBe(813);
    expect(d.finishedAt).toBe('2026-01-01T00:00:04.200Z');
  });

  it('embeds challenge frames at most once per interval, every good match frame', () => {
    const sel = new EmbedSelector(400);
    const quality = resolvePolicy({}).quality;
    const f = (tsMs: number) => ({
      tsMs, frameWidth: 640, frameHeight: 480, faceCount: 1,
      face: { box: { x1: 240, y1: 160, x2: 400, y2: 320 }, yawDeg: 0, pitchDeg: 0, rollDeg: 0, leftEyeOpen: 1, rightEyeOpen: 1, faceLuma: 120, antispoof: 0.9, quality: { sharpness: 500 } },
    });
    const want = (state: 'challenges' | 'match', frame: FrameSignals): boolean => sel.want(state, frame, assessQuality(frame, quality));
    const picked = [0, 100, 200, 300, 400, 500, 800].filter((t) => want('challenges', f(t)));
    expect(picked).toEqual([0, 400, 800]);
    expect([900, 933, 966].every((t) => want('match', f(t)))).toBe(true);
    expect(want('match', { ...f(1000), faceCount: 0, face: undefined })).toBe(false);
  });
});
