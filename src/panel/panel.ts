/**
 * The panel seam (DESIGN.md §3): named LEDs that prompt the customer and named buttons (start, cancel, staff-assist).
 * Names and BCM pins come from config (`pins: { look: 17, blink: 27, ... }`); the backend (gpiod or onoff on a Pi, sim
 * in tests and demos) is chosen once in create-panel.ts and the session never knows which one runs.
 *
 * CONTRACT (test/unit/panel/panel-contract.ts runs it against every backend that can run here):
 * Leds
 * - `start()` opens every output and turns it off; it rejects with a PanelError when an output cannot be opened
 *   (no sysfs GPIO or no libgpiod tools, unknown board, pin out of range, line held by another process). `stop()` turns everything off, releases the outputs and is
 *   idempotent.
 * - `set(name, on)` throws RangeError for a name that is not configured and Error when not started; setting the
 *   current state again is a no-op.
 * Buttons
 * - `start()` / `stop()` as for Leds. Edges are debounced (a bouncing contact yields one press) and reported once per
 *   change to every listener with the time it settled; a throwing listener is logged, not propagated.
 * - `waitForPress(names, signal)` resolves with the next press of one of `names` (any button if empty). A canceled
 *   read — `signal` aborts or stop() is called — resolves `undefined`; it never rejects.
 */
export interface Leds {
  readonly names: readonly string[];
  start(): Promise<void>;
  set(name: string, on: boolean): void;
  isOn(name: string): boolean;
  stop(): Promise<void>;
}

export interface ButtonEvent {
  button: string;
  pressed: boolean;
  tMs: number;
}

export type ButtonListener = (e: ButtonEvent) => void;

export interface Buttons {
  readonly names: readonly string[];
  start(): Promise<void>;
  /** subscribe; returns the unsubscribe function */
  onEdge(listener: ButtonListener): () => void;
  isPressed(name: string): boolean;
  waitForPress(names: readonly string[], signal?: AbortSignal): Promise<ButtonEvent | undefined>;
  stop(): Promise<void>;
}

/** Pin map from config: name → BCM GPIO number. */
export type PinMap = Readonly<Record<string, number>>;

export const DEFAULT_LED_PINS: PinMap = { look: 17, blink: 27, left: 22, right: 23, busy: 24, pass: 25, fail: 5, light: 26 };
export const DEFAULT_BUTTON_PINS: PinMap = { start: 6, cancel: 13, assist: 19 };

/** Names in a flat pin map that are buttons; every other name is an LED. */
export const BUTTON_NAMES: readonly string[] = ['start', 'cancel', 'assist'];

export function checkName(names: readonly string[], name: string, what: string): void {
  if (!names.includes(name)) throw new RangeError(`unknown ${what} '${name}' (configured: ${names.join(', ') || 'none'})`);
}
