/**
 * LED patterns are data: what lights, for how long, how often. The session's prompt → pattern table and the verdict
 * patterns are in src/session/prompts.ts (the light challenge hands over a nonce-derived sequence); the PatternPlayer
 * renders whichever active pattern has the highest priority.
 */
export interface PatternStep {
  readonly on: readonly string[];
  readonly ms: number;
}

export type Pattern =
  /** `on` lit; for `ms` then done, or until cleared */
  | { readonly kind: 'steady'; readonly on: readonly string[]; readonly ms?: number }
  /** `on` blinking at `hz` (50 % duty), `count` times then done, or until cleared */
  | { readonly kind: 'blink'; readonly on: readonly string[]; readonly hz: number; readonly count?: number }
  | { readonly kind: 'sequence'; readonly steps: readonly PatternStep[]; readonly repeat?: boolean };

export interface PatternDef {
  /** higher wins; ties go to the most recently shown */
  readonly priority: number;
  readonly pattern: Pattern;
}

export interface ExpandedPattern {
  steps: PatternStep[];
  repeat: boolean;
}

const MAX_HZ = 50;

/** Validate against the configured LED names and turn any pattern into steps; throws RangeError on bad data. */
export function expandPattern(p: Pattern, ledNames: readonly string[]): ExpandedPattern {
  const check = (on: readonly string[]): void => {
    for (const n of on) if (!ledNames.includes(n)) throw new RangeError(`pattern uses unknown LED '${n}'`);
  };
  switch (p.kind) {
    case 'steady':
      check(p.on);
      if (p.ms !== undefined && !(p.ms > 0)) throw new RangeError('steady pattern: ms must be > 0');
      return { steps: [{ on: p.on, ms: p.ms ?? Infinity }], repeat: false };
    case 'blink': {
      check(p.on);
      if (!(p.hz > 0 && p.hz <= MAX_HZ)) throw new RangeError(`blink pattern: hz must be in (0, ${MAX_HZ}]`);
      if (p.count !== undefined && !(Number.isInteger(p.count) && p.count > 0)) throw new RangeError('blink pattern: count must be a positive integer');
      const half = 500 / p.hz;
      const cycle: PatternStep[] = [{ on: p.on, ms: half }, { on: [], ms: half }];
      return p.count ? { steps: Array.from({ length: p.count }, () => cycle).flat(), repeat: false } : { steps: cycle, repeat: true };
    }
    case 'sequence':
      if (p.steps.length === 0) throw new RangeError('sequence pattern: no steps');
      for (const s of p.steps) {
        check(s.on);
        if (!(s.ms > 0 && Number.isFinite(s.ms))) throw new RangeError('sequence pattern: every step needs ms > 0');
      }
      return { steps: [...p.steps], repeat: p.repeat ?? false };
  }
}
