import type { LightSchedule } from './light.ts';
import type { QualityIssue } from './quality.ts';

/**
 * What the customer is asked to do, and which LEDs show it. LED patterns are declared data (DESIGN.md §3); the panel
 * shell maps LED names to pins from config. Prompts carry no biometrics and also go to staff screens as progress.
 *
 * LED names: look (ring "look at the camera"), blink, left, right (arrows in the CUSTOMER'S own direction), light
 * (the white illuminator used by the light challenge), assist (staff called), busy (please wait).
 */
export type LedName = 'look' | 'blink' | 'left' | 'right' | 'light' | 'assist' | 'busy';

export type LedPattern =
  | { kind: 'off' }
  | { kind: 'steady' }
  | { kind: 'blink'; hz: number }
  | { kind: 'sequence'; schedule: LightSchedule };

/** The full LED state for a prompt: LEDs not listed are off. */
export type LedFrame = Partial<Record<LedName, LedPattern>>;

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
  | 'watch_light'
  | 'done';

const STEADY: LedPattern = { kind: 'steady' };
const SLOW: LedPattern = { kind: 'blink', hz: 1 };
const FAST: LedPattern = { kind: 'blink', hz: 3 };

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

/** LEDs for every prompt except watch_light, whose sequence depends on the session (see `promptLeds`). */
const LEDS: Record<Exclude<PromptId, 'watch_light'>, LedFrame> = {
  please_wait: { busy: SLOW },
  look_at_camera: { look: STEADY },
  one_person_only: { look: FAST },
  move_closer: { look: SLOW },
  move_back: { look: SLOW },
  center_face: { look: SLOW },
  face_camera: { look: SLOW },
  straighten_head: { look: SLOW },
  more_light: { look: SLOW, light: STEADY },
  less_light: { look: SLOW },
  hold_still: { look: SLOW },
  open_eyes: { look: SLOW },
  blink: { look: STEADY, blink: STEADY },
  turn_left: { left: STEADY },
  turn_right: { right: STEADY },
  done: { busy: STEADY },
};

/** Added to whatever prompt is shown once the customer pressed the staff-assist button. */
export const ASSIST_LEDS: LedFrame = { assist: FAST };

export function promptLeds(prompt: PromptId, light?: LightSchedule): LedFrame {
  if (prompt === 'watch_light') {
    if (light === undefined) throw new RangeError('watch_light needs a light schedule');
    return { look: STEADY, light: { kind: 'sequence', schedule: light } };
  }
  return LEDS[prompt];
}
