import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/lib/logger.ts';
import { isPanelError } from '../../../src/panel/gpio-chips.ts';
import { GpiodButtons, GpiodLeds } from '../../../src/panel/gpiod-panel.ts';
import {
  GpiodTools, gpiodArgs, parseEvent, parseGetOutput, parseGpiodetect, parseToolVersion, pickChip,
} from '../../../src/panel/gpiod-tools.ts';
import { gpiodSim, until, type GpiodSim } from './gpiod-sim.ts';

const LED_PINS = { look: 17, pass: 25, light: 26 };
const BUTTON_PINS = { start: 6, cancel: 13 };

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write: (c: Buffer, _e, cb) => {
        lines.push(JSON.parse(c.toString()) as Record<string, unknown>);
        cb();
      },
    }),
  });
  return { logger, lines, msgs: () => lines.map((l) => l.msg) };
}

describe('libgpiod tool arguments and output, v1.6 and v2', () => {
  it('detects the version from gpioset --version', () => {
    expect(parseToolVersion('gpioset (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski\n')).toBe(1);
    expect(parseToolVersion('gpioset (libgpiod) v2.1.3\n')).toBe(2);
    expect(() => parseToolVersion('gpioset (libgpiod) v0.3\n')).toThrow(/unsupported libgpiod tools.*v1.6 or v2/);
  });

  it('builds each argument list for the version installed', () => {
    const button = { chip: 'gpiochip0', activeLow: true, bias: 'pull-up' as const };
    expect(gpiodArgs.get({ ...button, version: 1 }, [6, 13])).toEqual(['--active-low', '--bias=pull-up', 'gpiochip0', '6', '13']);
    expect(gpiodArgs.get({ ...button, version: 2 }, [6, 13])).toEqual(['--chip', 'gpiochip0', '--active-low', '--bias=pull-up', '6', '13']);
    expect(gpiodArgs.monitor({ ...button, version: 1 }, [6])).toEqual(['--active-low', '--bias=pull-up', '--line-buffered', '--format=%e %o', 'gpiochip0', '6']);
    expect(gpiodArgs.monitor({ ...button, version: 2 }, [6])).toEqual(['--chip', 'gpiochip0', '--active-low', '--bias=pull-up', '--edges=both', '--format=%e %o', '6']);
    const led = { chip: 'gpiochip0', activeLow: false };
    expect(gpiodArgs.set({ ...led, version: 1, hold: true }, [[17, true]])).toEqual(['--mode=signal', 'gpiochip0', '17=1']);
    expect(gpiodArgs.set({ ...led, version: 1, hold: false, activeLow: true }, [[17, false], [27, false]]))
      .toEqual(['--mode=exit', '--active-low', 'gpiochip0', '17=0', '27=0']);
    expect(gpiodArgs.set({ ...led, version: 2, hold: true }, [[17, true]])).toEqual(['--chip', 'gpiochip0', '17=1']);
    expect(gpiodArgs.set({ ...led, version: 2, hold: false, activeLow: true }, [[17, false]])).toEqual(['--chip', 'gpiochip0', '--toggle=0', '--active-low', '17=0']);
  });

  it('reads gpioget and gpiomon output of either version', () => {
    expect(parseGetOutput('1 0\n', 2)).toEqual([true, false]);
    expect(parseGetOutput('"6"=active "13"=inactive\n', 2)).toEqual([true, false]);
    expect(() => parseGetOutput('1\n', 2)).toThrow(/unexpected output/);
    expect(parseEvent(1, '1 6')).toEqual({ offset: 6, rising: true });
    expect(parseEvent(1, '0 6')).toEqual({ offset: 6, rising: false });
    expect(parseEvent(2, '2 6')).toEqual({ offset: 6, rising: false });
    expect(parseEvent(2, '0 6')).toBeUndefined();
    expect(parseEvent(1, 'event:  RISING EDGE offset: 6')).toBeUndefined();
  });

  it('finds the header chip by its label whatever its number, or takes the configured one', () => {
    const pi5 = parseGpiodetect('gpiochip0 [gpio-brcmstb@107d508500] (32 lines)\ngpiochip4 [pinctrl-rp1] (54 lines)\n');
    expect(pickChip(pi5)).toMatchObject({ name: 'gpiochip4', label: 'pinctrl-rp1', ngpio: 54, board: 'Raspberry Pi 5/CM5' });
    expect(pickChip(pi5, 'gpiochip0')).toMatchObject({ name: 'gpiochip0', ngpio: 32 });
    expect(() => pickChip(pi5, 'gpiochip9')).toThrow(/no GPIO chip 'gpiochip9'.*found gpiochip0=gpio-brcmstb@107d508500, gpiochip4=pinctrl-rp1/);
    const pc = parseGpiodetect('gpiochip0 [INT34C5:00] (360 lines)\n');
    expect(() => pickChip(pc)).toThrow(/no Raspberry Pi header GPIO controller.*set panel.gpiochip/);
  });
});

// The real tools parse their options before they look for a chip, so where they are installed (apt install gpiod)
// every argument list is checked against them even without GPIO hardware: only the chip may be missing.
const REAL_TOOLS = existsSync('/usr/bin/gpioset');
describe.skipIf(!REAL_TOOLS)('the installed libgpiod tools (skipped: no /usr/bin/gpioset; apt install gpiod)', () => {
  it('accept every argument list built for their version', () => {
    const version = parseToolVersion(execFileSync('/usr/bin/gpioset', ['--version'], { encoding: 'utf8' }));
    const o = { version, chip: 'gpiochip99', activeLow: true };
    const calls: Array<[string, string[]]> = [
      ['gpioget', gpiodArgs.get({ ...o, bias: 'pull-up' }, [6, 13])],
      ['gpiomon', gpiodArgs.monitor({ ...o, bias: 'pull-up' }, [6, 13])],
      ['gpioset', gpiodArgs.set({ ...o, hold: true }, [[17, true]])],
      ['gpioset', gpiodArgs.set({ ...o, hold: false }, [[17, false], [27, false]])],
    ];
    for (const [tool, args] of calls) {
      const r = spawnSync(`/usr/bin/${tool}`, args, { encoding: 'utf8', timeout: 5000 });
      expect(r.status, `${tool} ${args.join(' ')}`).not.toBe(0); // no gpiochip99 anywhere
      expect(r.stderr, `${tool} ${args.join(' ')}`).not.toMatch(/unrecognized|invalid option|invalid (GPIO )?offset|try .* --help/);
    }
    const wrongDialect = spawnSync('/usr/bin/gpiomon', gpiodArgs.monitor({ ...o, version: version === 1 ? 2 : 1, bias: 'pull-up' }, [6]), { encoding: 'utf8', timeout: 5000 });
    expect(wrongDialect.stderr).toMatch(/unrecognized|invalid option|invalid (GPIO )?offset|try .* --help/);
  });
});

describe.each([1, 2] as const)('gpiod backend over the tools stand-in, libgpiod v%i', (version) => {
  let sim: GpiodSim;
  afterEach(() => {
    const left = sim.alive();
    for (const c of left) c.kill('SIGKILL');
    sim.remove();
    expect(left.map((c) => c.spawnargs.join(' '))).toEqual([]); // every test stops what it started
  });
  const tools = (logger = capture().logger, chip?: string) =>
    new GpiodTools({ dir: sim.dir, logger, spawn: sim.spawn, chip });

  it('requests the buttons with pull-up bias and active-low, so an open contact reads released from the start', async () => {
    sim = gpiodSim({ version });
    const b = new GpiodButtons({ pins: BUTTON_PINS, tools: tools(), logger: capture().logger, debounceMs: 5 });
    await b.start();
    expect(b.isPressed('start')).toBe(false);
    expect(b.isPressed('cancel')).toBe(false);
    await until(() => sim.argv().some(([tool]) => tool === 'gpiomon'), 'gpiomon to run');
    const calls = sim.argv().filter(([tool]) => tool === 'gpioget' || tool === 'gpiomon');
    expect(calls.map(([tool]) => tool)).toEqual(['gpioget', 'gpioget', 'gpiomon']);
    for (const args of calls) expect(args).toEqual(expect.arrayContaining(['--active-low', '--bias=pull-up', '6', '13']));
    const seen: boolean[] = [];
    b.onEdge((e) => seen.push(e.pressed));
    await sim.contact(6, true);
    await until(() => b.isPressed('start'), 'the press');
    await sim.contact(6, false);
    await until(() => !b.isPressed('start'), 'the release');
    expect(seen).toEqual([true, false]);
    await b.stop();
  });

  it('reports a contact already closed at start as pressed', async () => {
    sim = gpiodSim({ version });
    const first = new GpiodButtons({ pins: BUTTON_PINS, tools: tools(), logger: capture().logger, debounceMs: 5 });
    await first.start();
    await sim.contact(13, true);
    await until(() => first.isPressed('cancel'), 'the press');
    await first.stop();
    const again = new GpiodButtons({ pins: BUTTON_PINS, tools: tools(), logger: capture().logger, debounceMs: 5 });
    await again.start();
    expect(again.isPressed('cancel')).toBe(true);
    expect(again.isPressed('start')).toBe(false);
    await again.stop();
  });

  it('restarts a crashed gpiomon with backoff, logs it, and reports a change made while it was down', async () => {
    sim = gpiodSim({ version });
    const log = capture();
    const b = new GpiodButtons({ pins: BUTTON_PINS, tools: tools(log.logger), logger: log.logger, debounceMs: 5, backoff: { initialMs: 1000, maxMs: 1000, random: () => 1 } });
    await b.start();
    const first = b.monitorPid;
    expect(first).toBeGreaterThan(0);
    await sim.contact(6, true);
    await until(() => b.isPressed('start'), 'the press');
    process.kill(first as number, 'SIGKILL');
    await until(() => log.msgs().includes('gpiomon exited; buttons paused'), 'the crash to be logged');
    expect(log.lines.find((l) => l.msg === 'gpiomon exited; buttons paused')).toMatchObject({ signal: 'SIGKILL', restarts: 1 });
    // released while nobody watched: the restart re-reads the levels before watching again
    expect(b.monitorPid).toBeUndefined();
    sim.setLevel(6, 1);
    await until(() => b.monitorPid !== undefined && b.monitorPid !== first, 'the restart');
    await until(() => !b.isPressed('start'), 'the release made while gpiomon was down');
    await until(() => log.msgs().includes('gpiomon restarted'), 'the restart to be logged');
    await sim.contact(13, true);
    await until(() => b.isPressed('cancel'), 'a press after the restart');
    await b.stop();
  });

  it('stop() during a gpiomon restart ends with no tool running and starts no new gpiomon', async () => {
    sim = gpiodSim({ version });
    const log = capture();
    const b = new GpiodButtons({ pins: BUTTON_PINS, tools: tools(log.logger), logger: log.logger, backoff: { initialMs: 1, maxMs: 1 } });
    await b.start();
    await until(() => sim.argv().some(([tool]) => tool === 'gpiomon'), 'gpiomon to run');
    process.kill(b.monitorPid as number, 'SIGKILL');
    await until(() => sim.argv().filter(([tool]) => tool === 'gpioget').length === 3, 'the restart to re-read the levels');
    await b.stop();
    expect(sim.alive()).toEqual([]);
    const spawned = sim.children.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.children.length).toBe(spawned);
    expect(b.monitorPid).toBeUndefined();
  });

  it('lights an LED by replacing its gpioset, never requesting a line twice, and leaves every line off on stop', async () => {
    sim = gpiodSim({ version, releaseDelayS: 0.2 });
    const leds = new GpiodLeds({ pins: LED_PINS, tools: tools(), logger: capture().logger });
    await leds.start();
    await leds.settled();
    expect([sim.out(17), sim.out(25), sim.out(26)]).toEqual([0, 0, 0]);
    for (const on of [true, false, true, false, true]) {
      // each holder has requested its line (and will take a while to let go) before the next change
      leds.set('look', on);
      await leds.settled();
      await until(() => sim.out(17) === (on ? 1 : 0), `look ${on ? 'lit' : 'dark'}`);
    }
    // a light-challenge-like burst: every change while a hand-over runs collapses into the newest value
    for (let i = 0; i < 40; i++) leds.set('light', i % 2 === 0);
    leds.set('pass', true);
    await leds.settled();
    await until(() => sim.out(26) === 0 && sim.out(25) === 1, 'the last values');
    expect(sim.refused()).toEqual([]);
    const holders = sim.argv().filter(([tool, first]) => tool === 'gpioset' && !first.includes('exit') && !first.includes('toggle'));
    expect(holders.length).toBeLessThan(3 + 5 + 40 + 1);
    expect(sim.out(17)).toBe(1);
    await leds.stop();
    expect([sim.out(17), sim.out(25), sim.out(26)]).toEqual([0, 0, 0]);
    expect(leds.isOn('look')).toBe(false);
  });

  it('drives active-low LEDs low when lit (panel.ledsActiveLow)', async () => {
    sim = gpiodSim({ version });
    const leds = new GpiodLeds({ pins: { look: 17 }, tools: tools(), logger: capture().logger, activeLow: true });
    await leds.start();
    await leds.settled();
    await until(() => sim.out(17) === 1, 'off = high');
    leds.set('look', true);
    await leds.settled();
    await until(() => sim.out(17) === 0, 'lit = low');
    await leds.stop();
    expect(sim.out(17)).toBe(1);
    const sets = sim.argv().filter(([tool, first]) => tool === 'gpioset' && first !== '--version');
    expect(sets.length).toBeGreaterThanOrEqual(3);
    expect(sets.every((a) => a.includes('--active-low'))).toBe(true);
  });

  it('replaces an LED holder that dies, after a backoff, with the value it should hold', async () => {
    sim = gpiodSim({ version });
    const log = capture();
    const leds = new GpiodLeds({ pins: { look: 17 }, tools: tools(log.logger), logger: log.logger, backoff: { initialMs: 20, maxMs: 50 } });
    await leds.start();
    leds.set('look', true);
    await leds.settled();
    await until(() => sim.out(17) === 1 && sim.pid('gpioset') !== undefined, 'look lit');
    const holder = sim.alive().at(-1);
    holder?.kill('SIGKILL');
    await until(() => log.msgs().includes('led holder exited'), 'the holder exit to be logged');
    await until(() => sim.alive().length === 1 && sim.alive()[0] !== holder, 'a new holder');
    expect(sim.argv().at(-1)?.at(-1)).toBe('17=1');
    await leds.stop();
  });

  it('fails start with a PanelError that says what to do: no tools, a busy line, an unknown chip', async () => {
    sim = gpiodSim({ version });
    const missing = new GpiodLeds({ pins: LED_PINS, tools: new GpiodTools({ dir: '/nonexistent/bin', logger: capture().logger }), logger: capture().logger });
    const e1 = await missing.start().then(() => undefined, (e: unknown) => e);
    expect(isPanelError(e1)).toBe(true);
    expect(String(e1)).toMatch(/ENOENT.*apt install gpiod/);

    const holder = new GpiodLeds({ pins: { look: 17 }, tools: tools(), logger: capture().logger });
    await holder.start();
    await holder.settled();
    await until(() => sim.alive().length === 1, 'the holder');
    const second = new GpiodLeds({ pins: { look: 17 }, tools: tools(), logger: capture().logger });
    const e2 = await second.start().then(() => undefined, (e: unknown) => e);
    expect(String(e2)).toMatch(/Device or resource busy.*gpioinfo/);
    await holder.stop();

    const wrongChip = new GpiodButtons({ pins: BUTTON_PINS, tools: tools(undefined, 'gpiochip7'), logger: capture().logger });
    const e3 = await wrongChip.start().then(() => undefined, (e: unknown) => e);
    expect(String(e3)).toMatch(/no GPIO chip 'gpiochip7'.*gpiochip4=pinctrl-rp1/);
    const outOfRange = new GpiodButtons({ pins: { start: 60 }, tools: tools(), logger: capture().logger });
    expect(String(await outOfRange.start().catch((e: unknown) => e))).toMatch(/BCM 60 is not a GPIO of pinctrl-rp1/);
  });
});
