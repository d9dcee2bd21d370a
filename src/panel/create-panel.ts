import type { Logger } from '../lib/logger.ts';
import { UsageError, errorMessage } from '../lib/errors.ts';
import { DEFAULT_GPIO_ROOT } from './gpio-chips.ts';
import { GpiodButtons, GpiodLeds } from './gpiod-panel.ts';
import { GpiodTools } from './gpiod-tools.ts';
import { OnoffButtons, OnoffLeds, type GpioCtor } from './onoff-panel.ts';
import { BUTTON_NAMES, DEFAULT_BUTTON_PINS, DEFAULT_LED_PINS, type Buttons, type Leds, type PinMap } from './panel.ts';
import { SimButtons, SimLeds } from './sim-panel.ts';

/** Shaped like config `panel` (src/config/schema.ts): LED and button name → BCM pin maps. */
export interface PanelSpec {
  backend: 'onoff' | 'gpiod' | 'sim';
  leds?: PinMap;
  buttons?: PinMap;
  gpioRoot?: string;
  /** gpiod: the header's chip (gpiochipN); default: found by its label */
  gpiochip?: string;
  /** gpiod: directory holding gpioset, gpioget, gpiomon and gpiodetect */
  gpiodToolsDir?: string;
  debounceMs?: number;
  buttonsActiveLow?: boolean;
  ledsActiveLow?: boolean;
}

export const DEFAULT_GPIOD_TOOLS_DIR = '/usr/bin';

export interface Panel {
  leds: Leds;
  buttons: Buttons;
}

/** A flat `--pins` map → LEDs and buttons: names in BUTTON_NAMES are buttons, the rest LEDs. */
export function splitPins(pins: PinMap): { leds: PinMap; buttons: PinMap } {
  const leds: Record<string, number> = {};
  const buttons: Record<string, number> = {};
  for (const [name, pin] of Object.entries(pins)) (BUTTON_NAMES.includes(name) ? buttons : leds)[name] = pin;
  return { leds, buttons };
}

/** `--pins '{"look":17,"start":6}'` → PinMap; a UsageError says what is wrong. */
export function parsePins(json: string): PinMap {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e: unknown) {
    throw new UsageError(`--pins is not JSON (${errorMessage(e)})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--pins must be a JSON object of name: BCM number');
  for (const [k, n] of Object.entries(v)) {
    if (!Number.isInteger(n) || (n as number) < 0) throw new UsageError(`--pins: '${k}' must be a BCM GPIO number (got ${JSON.stringify(n)})`);
  }
  return v as PinMap;
}

/** The one place that picks a panel backend. onoff is imported only when used (it loads a native addon). */
export async function createPanel(spec: PanelSpec, logger: Logger, loadGpio: () => Promise<GpioCtor> = loadOnoffGpio): Promise<Panel> {
  const leds = spec.leds ?? DEFAULT_LED_PINS;
  const buttons = spec.buttons ?? DEFAULT_BUTTON_PINS;
  if (spec.backend === 'sim') {
    return { leds: new SimLeds(Object.keys(leds)), buttons: new SimButtons(Object.keys(buttons), logger) };
  }
  if (spec.backend === 'gpiod') {
    const tools = new GpiodTools({ dir: spec.gpiodToolsDir ?? DEFAULT_GPIOD_TOOLS_DIR, chip: spec.gpiochip, logger: logger.child({ component: 'gpiod' }) });
    return {
      leds: new GpiodLeds({ pins: leds, tools, logger, activeLow: spec.ledsActiveLow }),
      buttons: new GpiodButtons({ pins: buttons, tools, logger, debounceMs: spec.debounceMs, activeLow: spec.buttonsActiveLow }),
    };
  }
  const Gpio = await loadGpio();
  const gpioRoot = spec.gpioRoot ?? DEFAULT_GPIO_ROOT;
  return {
    leds: new OnoffLeds({ pins: leds, Gpio, logger, gpioRoot, activeLow: spec.ledsActiveLow }),
    buttons: new OnoffButtons({ pins: buttons, Gpio, logger, gpioRoot, debounceMs: spec.debounceMs, activeLow: spec.buttonsActiveLow }),
  };
}

async function loadOnoffGpio(): Promise<GpioCtor> {
  const mod = (await import('onoff')) as unknown as { Gpio: GpioCtor };
  return mod.Gpio;
}
