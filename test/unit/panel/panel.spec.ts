import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/lib/logger.ts';
import { createPanel } from '../../../src/panel/create-panel.ts';
import { isPanelError } from '../../../src/panel/gpio-chips.ts';
import { GpiodButtons, GpiodLeds } from '../../../src/panel/gpiod-panel.ts';
import { GpiodTools } from '../../../src/panel/gpiod-tools.ts';
import { OnoffButtons, OnoffLeds, type GpioCtor } from '../../../src/panel/onoff-panel.ts';
import { OptionalLeds } from '../../../src/panel/optional-leds.ts';
import { SimButtons, SimLeds } from '../../../src/panel/sim-panel.ts';
import { fakeBoard } from './fake-gpio.ts';
import { gpiodSim, signallingClock, until, type GpiodSim } from './gpiod-sim.ts';
import { panelContract } from './panel-contract.ts';

const LED_PINS = { look: 17, blink: 27, left: 22, right: 23, busy: 24, pass: 25, fail: 5 };
const BUTTON_PINS = { start: 6, cancel: 13, assist: 19 };
const PI5 = fileURLToPath(new URL('../../fixtures/sysfs/pi5-kernel6.6', import.meta.url));
const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

panelContract({
  name: 'sim',
  leds: () => new SimLeds(Object.keys(LED_PINS)),
  buttons: () => new SimButtons(Object.keys(BUTTON_PINS), logger),
  press: (b, n) => (b as SimButtons).press(n),
  release: (b, n) => (b as SimButtons).release(n),
  settleMs: 0,
});

panelContract({
  name: 'optional LEDs degraded (no sysfs GPIO) + sim buttons',
  leds: () => new OptionalLeds(new OnoffLeds({ pins: LED_PINS, Gpio: fakeBoard().Gpio, logger, gpioRoot: '/nonexistent/gpio' }), logger),
  buttons: () => new SimButtons(Object.keys(BUTTON_PINS), logger),
  press: (b, n) => (b as SimButtons).press(n),
  release: (b, n) => (b as SimButtons).release(n),
  settleMs: 0,
});

// onoff over a fake GpioLine on a Pi 5 sysfs tree (base 571); active-low buttons as wired with pull-ups.
let board = fakeBoard();
panelContract({
  name: 'onoff (fake GpioLine, Pi 5 sysfs tree)',
  leds: () => new OnoffLeds({ pins: LED_PINS, Gpio: (board = fakeBoard()).Gpio, logger, gpioRoot: PI5 }),
  buttons: () => new OnoffButtons({ pins: BUTTON_PINS, Gpio: (board = fakeBoard()).Gpio, logger, gpioRoot: PI5, debounceMs: 30 }),
  press: (_b, n) => board.drive(571 + BUTTON_PINS[n as keyof typeof BUTTON_PINS], 0),
  release: (_b, n) => board.drive(571 + BUTTON_PINS[n as keyof typeof BUTTON_PINS], 1),
  settleMs: 30,
});

// gpiod over the libgpiod tools stand-in (no gpio-sim module here), in both tool dialects: a press is the stand-in's
// contact closing, awaited until the backend's debouncer has the edge.
for (const version of [1, 2] as const) {
  const sims: GpiodSim[] = [];
  let sim: GpiodSim;
  let edgeSeen: () => Promise<void>;
  const tools = (s: GpiodSim) => new GpiodTools({ dir: s.dir, logger, spawn: s.spawn });
  const contact = async (n: string, closed: boolean): Promise<void> => {
    const seen = edgeSeen();
    await sim.contact(BUTTON_PINS[n as keyof typeof BUTTON_PINS], closed);
    await seen;
  };
  afterAll(() => {
    const left = sims.flatMap((s) => s.alive());
    for (const c of left) c.kill('SIGKILL');
    for (const s of sims) s.remove();
    expect(left.map((c) => c.spawnargs.join(' '))).toEqual([]);
  });
  panelContract({
    name: `gpiod (libgpiod v${version} tools stand-in)`,
    leds: () => {
      const s = gpiodSim({ version });
      sims.push(s);
      return new GpiodLeds({ pins: LED_PINS, tools: tools(s), logger });
    },
    buttons: () => {
      sims.push((sim = gpiodSim({ version })));
      const { clock, nextTimer } = signallingClock();
      edgeSeen = nextTimer;
      return new GpiodButtons({ pins: BUTTON_PINS, tools: tools(sim), logger, clock, debounceMs: 30 });
    },
    press: (_b, n) => contact(n, true),
    release: (_b, n) => contact(n, false),
    settleMs: 30,
  });
}

// Real GPIO only when named: HIL_GPIOCHIP=gpiochip0 on a terminal with LEDs on the default pins (HIL_PINS JSON to
// override). Buttons need a person, so only the LED contract runs on hardware.
const HIL = process.env.HIL_GPIOCHIP;
describe.skipIf(!HIL)('real GPIO (skipped: set HIL_GPIOCHIP on a terminal)', () => {
  it('lights and clears every configured LED through onoff', async () => {
    const { Gpio } = (await import('onoff')) as unknown as { Gpio: GpioCtor };
    const leds = new OnoffLeds({ pins: process.env.HIL_PINS ? JSON.parse(process.env.HIL_PINS) : LED_PINS, Gpio, logger });
    await leds.start();
    for (const n of leds.names) {
      leds.set(n, true);
      expect(leds.isOn(n)).toBe(true);
    }
    await leds.stop();
  });

  it('lights and clears every configured LED through the libgpiod tools on HIL_GPIOCHIP', async () => {
    const tools = new GpiodTools({ dir: process.env.HIL_GPIOD_DIR ?? '/usr/bin', chip: HIL, logger });
    const leds = new GpiodLeds({ pins: process.env.HIL_PINS ? JSON.parse(process.env.HIL_PINS) : LED_PINS, tools, logger });
    await leds.start();
    for (const n of leds.names) {
      leds.set(n, true);
      await leds.settled();
      expect(leds.isOn(n)).toBe(true);
    }
    await leds.stop();
  });
});

describe('onoff backend specifics', () => {
  afterEach(() => vi.useRealTimers());

  it('opens LEDs at their mapped sysfs numbers, low, and unexports every line on stop', async () => {
    const b = fakeBoard();
    const leds = new OnoffLeds({ pins: { look: 17, pass: 25 }, Gpio: b.Gpio, logger, gpioRoot: PI5 });
    await leds.start();
    expect(b.opened).toEqual([
      { n: 588, direction: 'low', edge: 'none', activeLow: false },
      { n: 596, direction: 'low', edge: 'none', activeLow: false },
    ]);
    leds.set('pass', true);
    expect(b.physical(596)).toBe(1);
    await leds.stop();
    expect(b.physical(596)).toBe(0);
    expect(b.exported.size).toBe(0);
  });

  it('a bouncing contact yields one press, reported when it settles', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const b = fakeBoard();
    const buttons = new OnoffButtons({ pins: { start: 6 }, Gpio: b.Gpio, logger, gpioRoot: PI5, debounceMs: 20 });
    await buttons.start();
    expect(b.opened[0]).toEqual({ n: 577, direction: 'in', edge: 'both', activeLow: true });
    const edges: boolean[] = [];
    buttons.onEdge((e) => edges.push(e.pressed));
    for (const level of [0, 1, 0, 1, 0] as const) {
      b.drive(577, level);
      await vi.advanceTimersByTimeAsync(3);
    }
    expect(edges).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    expect(edges).toEqual([true]);
    b.drive(577, 0); // glitch to the same level: nothing new
    await vi.advanceTimersByTimeAsync(25);
    expect(edges).toEqual([true]);
    await buttons.stop();
    expect(b.exported.size).toBe(0);
  });

  it('without sysfs GPIO start() fails with a message that says how to enable it, and opens nothing', async () => {
    const b = fakeBoard();
    const leds = new OnoffLeds({ pins: LED_PINS, Gpio: b.Gpio, logger, gpioRoot: '/nonexistent/gpio' });
    const e = await leds.start().then(() => undefined, (err: unknown) => err);
    expect(isPanelError(e)).toBe(true);
    expect(String(e)).toMatch(/sysfs GPIO is absent.*CONFIG_GPIO_SYSFS/);
    expect(b.opened).toEqual([]);
  });

  it('a line that cannot be opened releases the ones already opened', async () => {
    const b = fakeBoard();
    let n = 0;
    const Flaky = class extends b.Gpio {
      constructor(...args: ConstructorParameters<GpioCtor>) {
        if (++n === 2) throw new Error('EACCES: permission denied');
        super(...args);
      }
    } as GpioCtor;
    const leds = new OnoffLeds({ pins: { look: 17, pass: 25 }, Gpio: Flaky, logger, gpioRoot: PI5 });
    const e = await leds.start().then(() => undefined, (err: unknown) => err);
    expect(String(e)).toMatch(/cannot open GPIO: EACCES.*group gpio/);
    expect(b.exported.size).toBe(0);
  });
});

describe('optional LEDs', () => {
  it('warn once and degrade when GPIO is absent, pass through when it works', async () => {
    const lines: string[] = [];
    const sink = createLogger({
      level: 'warn',
      destination: new Writable({
        write: (c: Buffer, _e, cb) => {
          lines.push(c.toString());
          cb();
        },
      }),
    });
    const degraded = new OptionalLeds(new OnoffLeds({ pins: { look: 17 }, Gpio: fakeBoard().Gpio, logger, gpioRoot: '/nonexistent/gpio' }), sink);
    await degraded.start();
    degraded.set('look', true);
    expect(degraded.isDegraded).toBe(true);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as { msg: string; err: { message: string } };
    expect(entry.msg).toBe('LEDs unavailable; continuing without them');
    expect(entry.err.message).toMatch(/sysfs GPIO is absent/);
    const b = fakeBoard();
    const real = new OptionalLeds(new OnoffLeds({ pins: { look: 17 }, Gpio: b.Gpio, logger, gpioRoot: PI5 }), sink);
    await real.start();
    real.set('look', true);
    expect(real.isDegraded).toBe(false);
    expect(b.physical(588)).toBe(1);
    await real.stop();
    expect(b.physical(588)).toBe(0);
  });
});

describe('sim panel', () => {
  it('SimLeds.history records every change with its time, per instance', async () => {
    let now = 1000;
    const a = new SimLeds(['look', 'pass'], { now: () => now });
    const other = new SimLeds(['look', 'pass'], { now: () => now });
    await a.start();
    await other.start();
    a.set('look', true);
    now = 1500;
    a.set('look', false);
    a.set('pass', true);
    expect(a.history).toEqual([
      { tMs: 1000, led: 'look', on: true },
      { tMs: 1500, led: 'look', on: false },
      { tMs: 1500, led: 'pass', on: true },
    ]);
    expect(a.lit()).toEqual(['pass']);
    expect(other.history).toEqual([]);
  });
});

describe('createPanel', () => {
  it('picks the gpiod backend from config and passes ledsActiveLow to both hardware backends', async () => {
    const sim = gpiodSim({ version: 2 });
    try {
      const panel = await createPanel({ backend: 'gpiod', gpiodToolsDir: sim.dir, leds: { look: 17 }, buttons: { start: 6 }, ledsActiveLow: true }, logger);
      expect(panel.leds).toBeInstanceOf(GpiodLeds);
      expect(panel.buttons).toBeInstanceOf(GpiodButtons);
      await panel.leds.start();
      panel.leds.set('look', true);
      await (panel.leds as GpiodLeds).settled();
      await until(() => sim.out(17) === 0, 'the active-low LED lit (driven low)');
      await panel.leds.stop();
      expect(sim.out(17)).toBe(1);
    } finally {
      sim.remove();
    }
    const b = fakeBoard();
    const onoff = await createPanel({ backend: 'onoff', gpioRoot: PI5, leds: { look: 17 }, buttons: {}, ledsActiveLow: true }, logger, async () => b.Gpio);
    await onoff.leds.start();
    expect(b.opened).toEqual([{ n: 588, direction: 'low', edge: 'none', activeLow: true }]);
    await onoff.leds.stop();
  });
});
