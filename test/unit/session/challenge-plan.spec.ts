import { describe, expect, it } from 'vitest';
import { planChallenges } from '../../../src/session/challenges.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { seededRandom } from '../../../src/session/random.ts';

describe('planChallenges', () => {
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
});
