import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/lib/clock.ts';
import { PatternPlayer } from '../../../src/panel/pattern-player.ts';
import { expandPattern, type PatternDef } from '../../../src/panel/patterns.ts';
import { SimLeds } from '../../../src/panel/sim-panel.ts';

/** A manual clock: timers fire only when the test advances time. */
function manualClock(): Clock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let id = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(++id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => {
      timers.delete(h as number);
    },
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const next = [...timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
        if (!next || next[1].at > end) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
}

const NAMES = ['look', 'blink', 'left', 'right', 'busy', 'pass', 'fail'];
const PATTERNS: Record<string, PatternDef> = {
  look: { priority: 10, pattern: { kind: 'steady', on: ['look'] } },
  blink: { priority: 10, pattern: { kind: 'blink', on: ['blink'], hz: 2 } },
  left: { priority: 10, pattern: { kind: 'blink', on: ['left'], hz: 2 } },
  busy: { priority: 5, pattern: { kind: 'blink', on: ['busy'], hz: 1 } },
  fail: { priority: 20, pattern: { kind: 'blink', on: ['fail'], hz: 4, count: 12 } },
};

async function setup() {
  const clock = manualClock();
  const leds = new SimLeds(NAMES, clock);
  await leds.start();
  return { clock, leds, player: new PatternPlayer(leds, clock) };
}

describe('PatternPlayer', () => {
  it('blinks at n Hz with 50 % duty', async () => {
    const { clock, leds, player } = await setup();
    player.show('blink', PATTERNS.blink);
    clock.advance(1000);
    expect(leds.history.filter((h) => h.led === 'blink').map((h) => [h.tMs, h.on])).toEqual([
      [0, true], [250, false], [500, true], [750, false], [1000, true],
    ]);
  });

  it('a higher-priority finite pattern interrupts, then the lower one resumes', async () => {
    const { clock, leds, player } = await setup();
    player.show('look', PATTERNS.look);
    player.show('fail', PATTERNS.fail); // 4 Hz × 12 = 3 s
    expect(leds.lit()).toEqual(['fail']);
    player.show('left', PATTERNS.left); // lower priority than fail: queued
    expect(player.active()).toBe('fail');
    clock.advance(3000);
    expect(player.active()).toBe('left');
    expect(leds.lit()).toEqual(['left']);
    player.clear('left');
    expect(leds.lit()).toEqual(['look']);
    expect(leds.history.filter((h) => h.led === 'fail' && h.on)).toHaveLength(12);
  });

  it('plays a declared sequence (the light challenge) once and then goes dark', async () => {
    const { clock, leds, player } = await setup();
    player.show('light', { priority: 15, pattern: { kind: 'sequence', steps: [{ on: ['look', 'pass'], ms: 100 }, { on: [], ms: 50 }, { on: ['fail'], ms: 100 }] } });
    clock.advance(400);
    expect(leds.history.map((h) => [h.tMs, h.led, h.on])).toEqual([
      [0, 'look', true], [0, 'pass', true], [100, 'look', false], [100, 'pass', false], [150, 'fail', true], [250, 'fail', false],
    ]);
    expect(player.active()).toBeUndefined();
    expect(clock.pending()).toBe(0);
  });

  it('stop() clears the timer and turns everything off', async () => {
    const { clock, leds, player } = await setup();
    player.show('busy', PATTERNS.busy);
    player.stop();
    expect(leds.lit()).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('rejects patterns with unknown LEDs or nonsense timing', () => {
    expect(() => expandPattern({ kind: 'steady', on: ['disco'] }, NAMES)).toThrow(/unknown LED 'disco'/);
    expect(() => expandPattern({ kind: 'blink', on: ['look'], hz: 0 }, NAMES)).toThrow(RangeError);
    expect(() => expandPattern({ kind: 'sequence', steps: [] }, NAMES)).toThrow(RangeError);
    expect(() => expandPattern({ kind: 'sequence', steps: [{ on: ['look'], ms: 0 }] }, NAMES)).toThrow(RangeError);
  });
});

describe('PatternPlayer failure on a timer tick', () => {
  it('stops and reports instead of throwing from the timer when the LEDs went away', async () => {
    const { clock, leds } = await setup();
    const errors: unknown[] = [];
    const player = new PatternPlayer(leds, clock, (e) => errors.push(e));
    player.show('blink', PATTERNS.blink);
    await leds.stop();
    expect(() => clock.advance(300)).not.toThrow();
    expect(String(errors[0])).toMatch(/not started/);
    expect(player.active()).toBeUndefined();
    expect(clock.pending()).toBe(0);
  });
});
