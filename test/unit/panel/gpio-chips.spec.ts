import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isPanelError, resolveSysfsPins } from '../../../src/panel/gpio-chips.ts';

const tree = (name: string): string => fileURLToPath(new URL(`../../fixtures/sysfs/${name}`, import.meta.url));
const PINS = { look: 17, blink: 27, start: 6 };

// Per-board feature table (STYLE.md §7) instead of ifs in tests.
const BOARDS = [
  { tree: 'pi4-kernel6.1', controller: 'pinctrl-bcm2711', board: /Pi 4/, base: 0 },
  { tree: 'pi4-kernel6.6', controller: 'pinctrl-bcm2711', board: /Pi 4/, base: 512 },
  { tree: 'pi5-kernel6.6', controller: 'pinctrl-rp1', board: /Pi 5/, base: 571 },
  { tree: 'pi3-kernel6.6', controller: 'pinctrl-bcm2835', board: /Pi 1\/2\/3/, base: 512 },
];

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e: unknown) => e);
}

describe('BCM → sysfs GPIO mapping from gpiochip label/base/ngpio', () => {
  it.each(BOARDS)('$tree: BCM n → $base + n', async (b) => {
    const { chip, sysfs } = await resolveSysfsPins(PINS, tree(b.tree));
    expect(chip.label).toBe(b.controller);
    expect(chip.board).toMatch(b.board);
    expect(sysfs).toEqual({ look: b.base + 17, blink: b.base + 27, start: b.base + 6 });
  });

  it('an unknown board is refused with the chips it found', async () => {
    const e = await failure(resolveSysfsPins(PINS, tree('unknown-board')));
    expect(isPanelError(e)).toBe(true);
    expect(String(e)).toMatch(/unknown board: no Raspberry Pi header GPIO controller .* found gpiochip0=INT34C5:00/);
  });

  it.each(['no-gpiochips', 'does-not-exist'])('missing sysfs GPIO (%s) says so and how to enable it', async (name) => {
    const e = await failure(resolveSysfsPins(PINS, tree(name)));
    expect(isPanelError(e)).toBe(true);
    expect(String(e)).toMatch(/sysfs GPIO is absent/);
    expect(String(e)).toMatch(/CONFIG_GPIO_SYSFS/);
  });

  it('refuses pins the controller does not have, and a pin used twice', async () => {
    expect(String(await failure(resolveSysfsPins({ look: 54 }, tree('pi5-kernel6.6'))))).toMatch(/BCM 54 is not a GPIO of pinctrl-rp1 \(0\.\.53\)/);
    expect(String(await failure(resolveSysfsPins({ look: 17, pass: 17 }, tree('pi4-kernel6.6'))))).toMatch(/'look' and 'pass' both use BCM 17/);
  });
});
