import type { Pattern, PatternStep } from '../panel/patterns.ts';
import type { LightSchedule } from './light.ts';
import type { QualityIssue } from './quality.ts';

/**
 * What the customer is asked to do, and the LED pattern that shows it: the one prompt → LED table. Patterns are
 * declared data (DESIGN.md §3) in the panel's `Pattern` shape (src/panel/patterns.ts: steady / blink / sequence of
 * steps naming LEDs), so the shell hands them to the pattern player unchanged. LED names: look, blink, left, right
 * (arrows in the CUSTOMER'S own direction), busy, pass, fail, and light (the white illuminator the light challenge
 * flashes; give it a pin in config). Prompts carry no biometrics; they also go to staff screens as progress.
 */
export type PromptId =
  | 'please_wait'
  | 'look_at_camera'
  | 'one_person_only'
  | 'move_closer'
  | 'move_back'
  | 'center_face'
  | 'face_camera'
  | 'straighten_head'
  | 'more_light'
  | 'less_light'
  | 'hold_still'
  | 'open_eyes'
  | 'blink'
  | 'turn_left'
  | 'turn_right'
  | 'watch_light';

export const ISSUE_PROMPT: Record<QualityIssue, PromptId> = {
  no_face: 'look_at_camera',
  multiple_faces: 'one_person_only',
  too_far: 'move_closer',
  too_close: 'move_back',
  off_center: 'center_face',
  not_facing: 'face_camera',
  head_tilted: 'straighten_head',
  too_dark: 'more_light',
  too_bright: 'less_light',
  blurry: 'hold_still',
  eyes_closed: 'open_eyes',
};

const steady = (...on: string[]): Pattern => ({ kind: 'steady', on });
const blinking = (hz: number, ...on: string[]): Pattern => ({ kind: 'blink', on, hz });

/**
 * A terminal with LEDs only cannot say "move closer": every fix-it prompt blinks the look ring slowly (staff screens
 * get the exact prompt as progress); a second person blinks it fast; too dark turns the illuminator on.
 */
const PATTERNS: Record<Exclude<PromptId, 'watch_light'>, Pattern> = {
  please_wait: blinking(1, 'busy'),
  look_at_camera: steady('look'),
  one_person_only: blinking(3, 'look'),
  move_closer: blinking(1, 'look'),
  move_back: blinking(1, 'look'),
  center_face: blinking(1, 'look'),
  face_camera: blinking(1, 'look'),
  straighten_head: blinking(1, 'look'),
  more_light: steady('look', 'light'),
  less_light: blinking(1, 'look'),
  hold_still: blinking(1, 'look'),
  open_eyes: blinking(1, 'look'),
  blink: blinking(2, 'blink'),
  turn_left: blinking(2, 'left'),
  turn_right: blinking(2, 'right'),
};

/** The prompts whose pattern needs no light schedule (every one but watch_light), e.g. for `regterm record --prompts`. */
export const SCHEDULE_FREE_PROMPTS = Object.keys(PATTERNS) as readonly PromptId[];

/** The verdict, shown once the result is durable: pass lit for 3 s, or fail blinking fast for 3 s. */
export const VERDICT_PATTERNS: Readonly<Record<'pass' | 'fail', Pattern>> = {
  pass: { kind: 'steady', on: ['pass'], ms: 3000 },
  fail: { kind: 'blink', on: ['fail'], hz: 4, count: 12 },
};

/**
 * The pattern for a prompt. watch_light: the look ring steady for the lead time, then the illuminator follows the
 * chips; the shell starts it when it receives the prompt, which is the schedule's time base (startMs - leadMs).
 */
export function promptPattern(prompt: PromptId, light?: LightSchedule, promptAtMs?: number): Pattern {
  if (prompt !== 'watch_light') return PATTERNS[prompt];
  if (light === undefined || promptAtMs === undefined) throw new RangeError('watch_light needs a light schedule');
  const steps: PatternStep[] = [{ on: ['look'], ms: light.startMs - promptAtMs }];
  for (const chip of light.chips) steps.push({ on: chip === 1 ? ['look', 'light'] : ['look'], ms: light.chipMs });
  return { kind: 'sequence', steps };
}
