import type { Pattern } from '../panel/patterns.ts';
import type { FaceTemplate } from '../vision/matcher.ts';
import type { Clock } from '../lib/clock.ts';
import type { AgentError, ReferenceReason, SessionResult } from './decision.ts';
import type { Similarity } from './similarity.ts';
import type { LightSchedule } from './light.ts';
import type { SessionPolicy } from './policy.ts';
import type { PromptId } from './prompts.ts';
import type { QualityAssessment } from './quality.ts';
import type { RandomSource } from './random.ts';
import type { FrameSignals } from './signals.ts';

/** The session core's inputs and outputs (session.ts). */
export type SessionState = 'idle' | 'reference' | 'quality' | 'challenges' | 'match' | 'decided';

export type SessionInput =
  /** idle → reference: draws the challenge plan, prompts "please wait" while the shell embeds the reference photo */
  | { type: 'start' }
  /** the reference photo's template (the session owns and wipes it) */
  | { type: 'reference'; template: FaceTemplate }
  /**
   * the reference photo was refused: decided `error` by `reference` with `reason`, before any customer prompt;
   * `detail` (a slug such as `no_face`) goes to the staff progress event only
   */
  | { type: 'reference_unusable'; reason: ReferenceReason; detail: string }
  /**
   * one analysed camera frame and its quality under the session's policy (`assessQuality`, computed once per frame by
   * the shell, which also uses it to choose the frames it embeds); its `face.embedding`, if any, is owned by the
   * session from now on
   */
  | { type: 'frame'; frame: FrameSignals; quality: QualityAssessment }
  /** panel buttons: cancel ends the session (`cancelled` by `customer`); assist flags prompts and notifies staff */
  | { type: 'button'; button: 'cancel' | 'assist' }
  /** time passed: the shell sends one every ~100 ms so deadlines fire even when frames stop arriving */
  | { type: 'tick' }
  /** the agent ends the session (shutdown, carrier abort): `cancelled` by `agent`, not a failed attempt */
  | { type: 'cancel' }
  /** the shell failed (camera gone, inference error): `error` by `agent`; what was thrown is for the shell's log */
  | { type: 'error'; reason: AgentError };

export type SessionOutput =
  /**
   * Show `pattern` on the LEDs. `assist` = the customer asked for staff (light an assist indicator if there is one);
   * `light` = the light challenge's schedule, for the replay report and the simulated panel.
   */
  | { type: 'prompt'; prompt: PromptId; pattern: Pattern; assist: boolean; atMs: number; light?: LightSchedule }
  | { type: 'progress'; state: SessionState; event: string; atMs: number; detail?: Record<string, string | number | boolean> }
  | { type: 'decided'; result: SessionResult };

export interface SessionOptions {
  sessionId: string;
  nonce: string;
  policy: SessionPolicy;
  clock: Pick<Clock, 'now'>;
  random: RandomSource;
  /** how templates compare (the engine's calibrated fusion in production); default mean cosine */
  similarity?: Similarity;
}
