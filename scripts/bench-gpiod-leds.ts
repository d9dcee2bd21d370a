/**
 * LED change latency of the gpiod panel backend (not a test): from `leds.set()` until the line has its new level, over
 * the libgpiod tools stand-in (test/fixtures/gpiod/gpiod-sim, a bash script). Every change is a gpioset hand-over:
 * stop the old holder, wait for its exit, spawn the next. For scale it also times one spawn of the real libgpiod
 * `gpioset --version` (a C program, when installed) and of `/bin/true`. Prints JSON (ms).
 *   node --import tsx scripts/bench-gpiod-leds.ts [--changes 60] [--version 1|2]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/lib/logger.ts';
import { GpiodLeds } from '../src/panel/gpiod-panel.ts';
import { GpiodTools } from '../src/panel/gpiod-tools.ts';
import { gpiodSim, until } from '../test/unit/panel/gpiod-sim.ts';

const { values } = parseArgs({ options: { changes: { type: 'string' }, version: { type: 'string' } } });
const changes = Number(values.changes ?? 60);
const version = values.version === '2' ? 2 : 1;
const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function summary(ms: number[]): { n: number; median: number; p95: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 10) / 10;
  return { n: s.length, median: at(0.5), p95: at(0.95), max: at(1) };
}

async function spawnMs(command: string, args: string[], n: number): Promise<ReturnType<typeof summary>> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => spawn(command, args, { stdio: 'ignore' }).once('close', () => resolve()).once('error', reject));
    ms.push(performance.now() - t0);
  }
  return summary(ms);
}

const sim = gpiodSim({ version });
try {
  const leds = new GpiodLeds({ pins: { light: 26, look: 17 }, tools: new GpiodTools({ dir: sim.dir, logger }), logger });
  await leds.start();
  await leds.settled();
  const ms: number[] = [];
  for (let i = 0; i < changes; i++) {
    const on = i % 2 === 0;
    const t0 = performance.now();
    leds.set('light', on);
    await until(() => sim.out(26) === (on ? 1 : 0), 'the change', 10_000);
    ms.push(performance.now() - t0);
    await leds.settled();
  }
  await leds.stop();
  console.log(JSON.stringify({
    stand_in: `gpiod-sim (bash), libgpiod v${version} flags`,
    ledChangeMs: summary(ms),
    spawnMs: {
      'gpioset --version (real libgpiod C tool)': existsSync('/usr/bin/gpioset') ? await spawnMs('/usr/bin/gpioset', ['--version'], 30) : 'not installed',
      '/bin/true': await spawnMs('/bin/true', [], 30),
    },
  }, null, 2));
} finally {
  sim.remove();
}
