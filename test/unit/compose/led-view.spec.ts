import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LedView, WatchedLeds } from '../../../src/compose/demo/led-view.ts';
import { SimLeds } from '../../../src/panel/sim-panel.ts';

/** A LED view writing to a captured stream (a TTY or not), watching started sim LEDs; its clock reads `clock.t`. */
async function watchedView(isTTY: boolean) {
  let text = '';
  const out = Object.assign(new Writable({ write(c: Buffer, _e, cb) { text += c.toString(); cb(); } }), { isTTY });
  const clock = { t: 0 };
  const view = new LedView(out, ['look', 'pass'], () => clock.t);
  const leds = new WatchedLeds(new SimLeds(['look', 'pass']), (lit) => view.leds(lit));
  await leds.start();
  return { view, leds, clock, text: () => text };
}

describe('demo LED view', () => {
  it('rewrites one row in place on a TTY, prompts go above it', async () => {
    const { view, leds, clock, text } = await watchedView(true);
    leds.set('look', true);
    clock.t = 1500;
    view.line('prompt: turn_left');
    leds.set('look', true); // no change, no redraw
    view.close();
    const s = text();
    expect(s.split('\n')).toHaveLength(3); // the prompt line, the row after it, the final newline
    expect(s).toContain('\r\x1b[2K  LEDs \x1b[7m look \x1b[0m\x1b[2m pass \x1b[0m');
    expect(s).toContain('+  1.50s prompt: turn_left\n');
    expect(s.match(/\r\x1b\[2K  LEDs/g)).toHaveLength(1);
  });

  it('writes plain timestamped lines when not a TTY', async () => {
    const { leds, clock, text } = await watchedView(false);
    leds.set('pass', true);
    clock.t = 250;
    leds.set('pass', false);
    expect(text()).toBe('+  0.00s LEDs pass\n+  0.25s LEDs (all off)\n');
    expect(text()).not.toContain('\x1b');
  });
});
