import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegtermError, errorMessage } from '../lib/errors.ts';

/**
 * BCM GPIO number → sysfs GPIO number. sysfs numbers are `base + offset` of the pin controller, and since kernel 6.6
 * dynamic GPIO bases start at 512: Pi 4 `pinctrl-bcm2711` base 0 → 512, Pi 3/Zero `pinctrl-bcm2835` 0 → 512,
 * Pi 5 `pinctrl-rp1` (the header GPIOs sit on RP1) 571.
 * So the base is read from `<gpioRoot>/gpiochipN/{label,base,ngpio}`, never assumed. `gpioRoot` defaults to
 * /sys/class/gpio and is configurable (tests point it at fixture trees in test/fixtures/sysfs/).
 */
export const DEFAULT_GPIO_ROOT = '/sys/class/gpio';

/** Labels of the controller that owns the 40-pin header GPIOs, per board family. */
export const HEADER_CONTROLLERS: Readonly<Record<string, string>> = {
  'pinctrl-bcm2835': 'Raspberry Pi 1/2/3/Zero',
  'pinctrl-bcm2711': 'Raspberry Pi 4/400/CM4',
  'pinctrl-rp1': 'Raspberry Pi 5/CM5',
};

export interface GpioChip {
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

export interface HeaderChip extends GpioChip {
  board: string;
}

/** Thrown when GPIO cannot be used at all; exits like a camera failure (hardware missing). */
export class PanelError extends RegtermError {}

export const isPanelError = (e: unknown): e is PanelError => e instanceof PanelError;

const SYSFS_HELP =
  'sysfs GPIO needs a kernel built with CONFIG_GPIO_SYSFS (Raspberry Pi OS kernels have it), /sys mounted read-write ' +
  'for the service user (member of group gpio), and in a container a bind mount of /sys/class/gpio; ' +
  'or run with the sim panel backend';

export async function readGpioChips(gpioRoot = DEFAULT_GPIO_ROOT): Promise<GpioChip[]> {
  let entries: string[];
  try {
    entries = (await readdir(gpioRoot)).filter((e) => e.startsWith('gpiochip'));
  } catch (e: unknown) {
    throw new PanelError(`sysfs GPIO is absent (${gpioRoot}: ${errorMessage(e)}); ${SYSFS_HELP}`, undefined, { cause: e });
  }
  if (entries.length === 0) throw new PanelError(`sysfs GPIO is absent (no gpiochip in ${gpioRoot}); ${SYSFS_HELP}`);
  const chips = await Promise.all(
    entries.map(async (name) => {
      const read = (f: string): Promise<string> => readFile(join(gpioRoot, name, f), 'utf8').then((s) => s.trim());
      try {
        const [label, base, ngpio] = await Promise.all([read('label'), read('base'), read('ngpio')]);
        return { name, label, base: Number(base), ngpio: Number(ngpio) };
      } catch (e: unknown) {
        throw new PanelError(`${gpioRoot}/${name}: unreadable (${errorMessage(e)})`, undefined, { cause: e });
      }
    }),
  );
  return chips.sort((a, b) => a.base - b.base);
}

/** The chip driving the header GPIOs; a PanelError naming the chips found when this is not a known Pi. */
export function findHeaderChip(chips: readonly GpioChip[], gpioRoot = DEFAULT_GPIO_ROOT): HeaderChip {
  const chip = chips.find((c) => HEADER_CONTROLLERS[c.label] !== undefined);
  if (!chip || !Number.isInteger(chip.base) || !(chip.ngpio > 0)) {
    const found = chips.map((c) => `${c.name}=${c.label}`).join(', ');
    throw new PanelError(
      `unknown board: no Raspberry Pi header GPIO controller (${Object.keys(HEADER_CONTROLLERS).join(', ')}) in ${gpioRoot}; found ${found}`,
    );
  }
  return { ...chip, board: HEADER_CONTROLLERS[chip.label] };
}

/** Map every named BCM pin to its sysfs number; rejects pins the controller does not have and pins used twice. */
export function mapPins(pins: Readonly<Record<string, number>>, chip: HeaderChip): Record<string, number> {
  const out: Record<string, number> = {};
  const seen = new Map<number, string>();
  for (const [name, bcm] of Object.entries(pins)) {
    if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) {
      throw new PanelError(`pin '${name}': BCM ${bcm} is not a GPIO of ${chip.label} (0..${chip.ngpio - 1})`);
    }
    const other = seen.get(bcm);
    if (other) throw new PanelError(`pins '${other}' and '${name}' both use BCM ${bcm}`);
    seen.set(bcm, name);
    out[name] = chip.base + bcm;
  }
  return out;
}

export async function resolveSysfsPins(pins: Readonly<Record<string, number>>, gpioRoot = DEFAULT_GPIO_ROOT): Promise<{ chip: HeaderChip; sysfs: Record<string, number> }> {
  const chip = findHeaderChip(await readGpioChips(gpioRoot), gpioRoot);
  return { chip, sysfs: mapPins(pins, chip) };
}
