import type { Logger } from '../lib/logger.ts';
import { errorMessage } from '../lib/errors.ts';
import { DEFAULT_GPIOD_TOOLS_DIR, type Panel, type PanelSpec } from './create-panel.ts';
import { DEFAULT_GPIO_ROOT, resolveSysfsPins } from './gpio-chips.ts';
import { GpiodTools } from './gpiod-tools.ts';
import { BUTTON_NAMES, type PinMap } from './panel.ts';

export interface PanelCheckRow {
  check: string;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
}

/**
 * What `regterm doctor` reports for the panel: one row per LED and button with its BCM → sysfs mapping (onoff) or
 * chip line and bias (gpiod), and one row for opening and releasing every line. Nothing is left exported, held or lit
 * afterwards.
 */
export async function checkPanel(spec: PanelSpec, pins: PinMap, open: () => Promise<Panel>, logger: Logger): Promise<PanelCheckRow[]> {
  const kind = (name: string): string => (BUTTON_NAMES.includes(name) ? 'button' : 'led');
  const rows: PanelCheckRow[] = [];
  if (spec.backend === 'onoff') {
    const gpioRoot = spec.gpioRoot ?? DEFAULT_GPIO_ROOT;
    try {
      const { chip, sysfs } = await resolveSysfsPins(pins, gpioRoot);
      for (const [name, bcm] of Object.entries(pins)) {
        rows.push({ check: `${kind(name)} ${name}`, status: 'pass', detail: `BCM ${bcm} → sysfs ${sysfs[name]} (${chip.label}, ${chip.board})` });
      }
    } catch (e: unknown) {
      rows.push({ check: 'gpio mapping', status: 'fail', detail: errorMessage(e) });
      return rows;
    }
  } else if (spec.backend === 'gpiod') {
    const tools = new GpiodTools({ dir: spec.gpiodToolsDir ?? DEFAULT_GPIOD_TOOLS_DIR, chip: spec.gpiochip, logger });
    try {
      const { version, chip, offsets } = await tools.resolve(pins);
      for (const [name, bcm] of Object.entries(pins)) {
        const bias = kind(name) === 'button' ? `, bias ${spec.buttonsActiveLow === false ? 'pull-down' : 'pull-up'}` : '';
        rows.push({ check: `${kind(name)} ${name}`, status: 'pass', detail: `BCM ${bcm} → ${chip.name} line ${offsets[name]} (${chip.label}, ${chip.board}; libgpiod v${version} tools${bias})` });
      }
    } catch (e: unknown) {
      rows.push({ check: 'gpio mapping', status: 'fail', detail: errorMessage(e) });
      return rows;
    }
  } else {
    for (const [name, bcm] of Object.entries(pins)) rows.push({ check: `${kind(name)} ${name}`, status: 'pass', detail: `BCM ${bcm} (sim backend)` });
  }
  try {
    const panel = await open();
    await panel.leds.start();
    try {
      await panel.buttons.start();
      await panel.buttons.stop();
    } finally {
      await panel.leds.stop();
    }
    rows.push({ check: 'gpio open', status: 'pass', detail: `${panel.leds.names.length} LEDs and ${panel.buttons.names.length} buttons opened and released` });
  } catch (e: unknown) {
    rows.push({ check: 'gpio open', status: 'fail', detail: errorMessage(e) });
  }
  return rows;
}
