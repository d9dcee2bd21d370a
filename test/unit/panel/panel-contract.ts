import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Buttons, ButtonEvent, Leds } from '../../../src/panel/panel.ts';

/**
 * ONE contract suite for every Leds/Buttons backend (STYLE.md §6): sim, onoff over a fake GpioLine, gpiod over the
 * libgpiod tools stand-in, and real GPIO when HIL_GPIOCHIP names it. The contract text is in src/panel/panel.ts.
 * Timers are faked so debounce is exact.
 */
export interface PanelTarget {
  name: string;
  leds(): Leds;
  buttons(): Buttons;
  /** physically press / release a button (sim: press(); onoff: drive the line; gpiod: until the backend saw the edge) */
  press(b: Buttons, name: string): void | Promise<void>;
  release(b: Buttons, name: string): void | Promise<void>;
  /** time for an edge to be reported (the debounce window), ms */
  settleMs: number;
}

export function panelContract(t: PanelTarget): void {
  describe(`Leds contract: ${t.name}`, () => {
    it('start turns every LED off; set/isOn follow; setting the same state again is a no-op', async () => {
      const leds = t.leds();
      await leds.start();
      expect(leds.names.every((n) => !leds.isOn(n))).toBe(true);
      leds.set('look', true);
      leds.set('look', true);
      expect(leds.isOn('look')).toBe(true);
      leds.set('look', false);
      expect(leds.isOn('look')).toBe(false);
      await leds.stop();
    });

    it('rejects unknown names and use before start; stop turns all off and is idempotent', async () => {
      const leds = t.leds();
      expect(() => leds.set('look', true)).toThrow(/not started/);
      await leds.start();
      expect(() => leds.set('disco', true)).toThrow(RangeError);
      leds.set('pass', true);
      await leds.stop();
      await leds.stop();
      expect(leds.isOn('pass')).toBe(false);
      expect(() => leds.set('pass', true)).toThrow(/not started/);
    });
  });

  describe(`Buttons contract: ${t.name}`, () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('reports one edge per change to every listener; a throwing listener does not stop the others', async () => {
      const b = t.buttons();
      await b.start();
      const seen: ButtonEvent[] = [];
      b.onEdge(() => {
        throw new Error('bad listener');
      });
      const off = b.onEdge((e) => seen.push(e));
      await t.press(b, 'start');
      await vi.advanceTimersByTimeAsync(t.settleMs);
      expect(b.isPressed('start')).toBe(true);
      await t.release(b, 'start');
      await vi.advanceTimersByTimeAsync(t.settleMs);
      off();
      await t.press(b, 'cancel');
      await vi.advanceTimersByTimeAsync(t.settleMs);
      expect(seen.map((e) => [e.button, e.pressed])).toEqual([['start', true], ['start', false]]);
      expect(typeof seen[0].tMs).toBe('number');
      await b.stop();
    });

    it('waitForPress resolves on a listed button only; a canceled wait and stop() resolve undefined', async () => {
      const b = t.buttons();
      await b.start();
      const wait = b.waitForPress(['cancel']);
      await t.press(b, 'start');
      await vi.advanceTimersByTimeAsync(t.settleMs);
      await t.press(b, 'cancel');
      await vi.advanceTimersByTimeAsync(t.settleMs);
      expect(await wait).toMatchObject({ button: 'cancel', pressed: true });
      const ac = new AbortController();
      const canceled = b.waitForPress([], ac.signal);
      ac.abort();
      expect(await canceled).toBeUndefined();
      const pending = b.waitForPress(['assist']);
      await b.stop();
      expect(await pending).toBeUndefined();
      expect(() => b.waitForPress(['nope'])).toThrow(RangeError);
    });
  });
}
