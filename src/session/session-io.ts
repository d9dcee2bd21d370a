import type { Clock } from './clock.ts';
import type { SessionResult } from './decision.ts';
import type { Similarity, Template } from './identity.ts';
import type { LightSchedule } from './light.ts';
import type { SessionPolicy } from './policy.ts';
import type { LedPattern, PromptId } from './prompts.ts';
import type { RandomSource } from './random.ts';
import type { FrameSignals } from './signals.ts';

/** The session core's inputs and outputs (session.ts). */
export type SessionState = 'idle' | 'reference' | 'quality' | 'challenges' | 'match' | 'decided';

export type SessionInput =
  | { type: 'start' }
  | { type: 'reference'; template: Template }
  | { type: 'reference_unusable'; reason: string }
  | { type: 'frame'; frame: FrameSignals }
  | { type: 'button'; button: 'cancel' | 'assist' }
  | { type: 'tick' }
  | { type: 'cancel' }
  | { type: 'error'; message: string };

export type SessionOutput =
  /**
   * Show `pattern` on the LEDs. `assist` = the customer asked for staff (light an assist indicator if there is one);
   * `light` = the light challenge's schedule, for the replay report and the simulated panel.
   */
  | { type: 'prompt'; prompt: PromptId; pattern: LedPattern; assist: boolean; atMs: number; light?: LightSchedule }
  | { type: 'progress'; state: SessionState; event: string; atMs: number; detail?: Record<string, string | number | boolean> }
  | { type: 'decided'; result: SessionResult };

export interface SessionOptions {
  sessionId: string;
  nonce: string;
  policy: SessionPolicy;
  clock: Clock;
  random: RandomSource;
  /** how templates compare (the engine's calibrated fusion in production); default mean cosine */
  similarity?: Similarity;
}
