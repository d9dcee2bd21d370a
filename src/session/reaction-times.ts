import { quantile } from '../vision/metrics.ts';
import type { SessionTrace } from './trace.ts';

/**
 * How soon customers answer the motion prompts, over a terminal's kept session traces (`regterm trace --reactions`):
 * the field trial behind `blink.startWithinMs` and `turn.prompted.startWithinMs`. A challenge's prompt is its
 * `challenge_started` mark; its answer is the `answer_started` mark of a passed challenge, and a failed challenge's
 * `answer_outside_window` mark is a motion of the asked kind that started too soon or too late to count. Numbers
 * only, as the traces are.
 */
export interface ReactionTimes {
  /** traces read */
  sessions: number;
  /** per challenge type that ran */
  challenges: Record<string, ChallengeReactions>;
}

export interface ChallengeReactions {
  answered: number;
  /** ms from the prompt to the start of the answer, over the answered challenges (absent when none was) */
  answerStartMs?: { p50: number; p90: number; max: number };
  failed: number;
  /** ms from the prompt to a motion of the asked kind outside the window, per failed challenge that had one, ascending */
  outsideWindowStartMs: number[];
}

export function reactionTimes(traces: readonly SessionTrace[]): ReactionTimes {
  const seen = new Map<string, { answered: number; failed: number; starts: number[]; outside: number[] }>();
  for (const trace of traces) {
    let open: { tS: number; type: string } | undefined;
    for (const m of trace.marks) {
      if (m.kind === 'challenge_started') {
        open = { tS: m.tS, type: m.label };
        if (!seen.has(m.label)) seen.set(m.label, { answered: 0, failed: 0, starts: [], outside: [] });
        continue;
      }
      if (open === undefined || m.label !== open.type) continue;
      const c = seen.get(open.type)!;
      const ms = Math.round((m.tS - open.tS) * 1000);
      if (m.kind === 'answer_started') c.starts.push(ms);
      else if (m.kind === 'answer_outside_window') c.outside.push(ms);
      else if (m.kind === 'challenge_passed') c.answered++;
      else if (m.kind === 'challenge_failed') c.failed++;
      if (m.kind === 'challenge_passed' || m.kind === 'challenge_failed') open = undefined;
    }
  }
  const challenges: Record<string, ChallengeReactions> = {};
  for (const [type, c] of seen) {
    challenges[type] = {
      answered: c.answered,
      ...(c.starts.length > 0 ? { answerStartMs: { p50: quantile(c.starts, 0.5), p90: quantile(c.starts, 0.9), max: Math.max(...c.starts) } } : {}),
      failed: c.failed,
      outsideWindowStartMs: c.outside.sort((a, b) => a - b),
    };
  }
  return { sessions: traces.length, challenges };
}
