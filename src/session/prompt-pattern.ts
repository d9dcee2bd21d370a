import type { Pattern, PatternDef } from '../panel/patterns.ts';
import type { LedPattern } from './prompts.ts';

/** Session prompts outrank the idle/busy patterns (5) and lose to the verdict (20) — src/panel/patterns.ts. */
export const PROMPT_PRIORITY = 10;

/** A session prompt as a panel pattern, keeping only LEDs this panel has (an absent illuminator degrades, not fails). */
export function panelPattern(p: LedPattern, names: readonly string[]): PatternDef {
  const keep = (on: readonly string[]): string[] => on.filter((n) => names.includes(n));
  let pattern: Pattern;
  if (p.kind === 'sequence') pattern = { kind: 'sequence', steps: p.steps.map((s) => ({ on: keep(s.on), ms: s.ms })) };
  else if (p.kind === 'blink') pattern = { kind: 'blink', on: keep(p.on), hz: p.hz };
  else pattern = { kind: 'steady', on: keep(p.on) };
  return { priority: PROMPT_PRIORITY, pattern };
}
