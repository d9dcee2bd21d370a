import type { Pattern, PatternDef } from '../panel/patterns.ts';

/** Session prompts lose to the verdict, which is shown once the result is durable. */
export const PROMPT_PRIORITY = 10;
export const VERDICT_PRIORITY = 20;

/** A prompt or verdict pattern for this panel, keeping only LEDs it has (an absent illuminator degrades, not fails). */
export function panelPattern(p: Pattern, names: readonly string[], priority = PROMPT_PRIORITY): PatternDef {
  const keep = (on: readonly string[]): string[] => on.filter((n) => names.includes(n));
  const pattern: Pattern = p.kind === 'sequence' ? { ...p, steps: p.steps.map((s) => ({ on: keep(s.on), ms: s.ms })) } : { ...p, on: keep(p.on) };
  return { priority, pattern };
}
