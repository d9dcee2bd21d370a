import { describe, expect, it } from 'vitest';
import { planChallenges } from '../../../src/session/challenges.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { cryptoRandom, randomInt, seededRandom, shuffle } from '../../../src/session/random.ts';

describe('policy', () => {
  it('fills defaults, keeps overrides, and rejects out-of-range or inconsistent values', () => {
    const p = resolvePolicy({ match: { threshold: 0.6 }, challenges: { count: 2 } });
    expect(p.match.threshold).toBe(0.6);
    expect(p.match.topK).toBe(3);
    expect(p.challenges.count).toBe(2);
    expect(p.blink.openAbove).toBe(0.6);
    expect(() => resolvePolicy({ blink: { closedBelow: 2 } })).toThrow();
    expect(() => resolvePolicy({ blink: { closedBelow: 0.7, openAbove: 0.6 } })).toThrow(/closedBelow/);
    expect(() => resolvePolicy({ challenges: { set: ['blink'], required: ['light'] } })).toThrow(/required/);
  });
});

describe('random source and challenge plan', () => {
  it('seeded: reproducible for one seed, different across seeds', () => {
    expect(seededRandom('s1').bytes(40)).toEqual(seededRandom('s1').bytes(40));
    expect(seededRandom('s1').bytes(40)).not.toEqual(seededRandom('s2').bytes(40));
  });

  it('randomInt stays in range and reaches every value; shuffle is a permutation', () => {
    const r = seededRandom('range');
    const seen = new Set<number>();
    for (let i = 0; i < 600; i++) {
      const v = randomInt(r, 6);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(6);
      seen.add(v);
    }
    expect(seen.size).toBe(6);
    expect(shuffle(r, [1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('plans count challenges including the required ones, with pauses in range', () => {
    const p = resolvePolicy();
    const plan = planChallenges(p, seededRandom('plan'));
    // the default asks every type once: light, blink and both turns
    expect(plan.challenges.map((c) => c.type).sort()).toEqual(['blink', 'light', 'turn_left', 'turn_right']);
    const three = planChallenges(resolvePolicy({ challenges: { count: 3 } }), seededRandom('plan'));
    expect(three.challenges).toHaveLength(3);
    expect(three.challenges.map((c) => c.type)).toContain('light');
    expect(new Set(three.challenges.map((c) => c.type)).size).toBe(3);
    for (const c of plan.challenges) {
      expect(c.pauseMs).toBeGreaterThanOrEqual(p.challenges.pauseMinMs);
      expect(c.pauseMs).toBeLessThanOrEqual(p.challenges.pauseMaxMs);
    }
    expect(plan.lightSalt).toHaveLength(16);
  });

  it('a fixed seed reproduces the plan; the CSPRNG varies order and timing between sessions', () => {
    const p = resolvePolicy();
    const key = (r: ReturnType<typeof planChallenges>): string => JSON.stringify(r.challenges);
    expect(key(planChallenges(p, seededRandom('x')))).toBe(key(planChallenges(p, seededRandom('x'))));
    const plans = new Set(Array.from({ length: 30 }, () => key(planChallenges(p, cryptoRandom))));
    expect(plans.size).toBeGreaterThan(20);
    const orders = new Set(Array.from({ length: 60 }, () => planChallenges(p, cryptoRandom).challenges.map((c) => c.type).join()));
    expect(orders.size).toBeGreaterThan(6);
  });
});
