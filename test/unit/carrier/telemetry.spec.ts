import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { TelemetryCollector, TelemetryReporter, decodeThrottled, type TelemetrySample } from '../../../src/device/telemetry.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { LogSink } from './helpers.ts';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'carrier');
const pi4 = (over = {}) => new TelemetryCollector({
  sysRoot: join(FIX, 'pi4', 'sys'), procRoot: join(FIX, 'pi4', 'proc'), etcRoot: join(FIX, 'pi4', 'etc'),
  diskPath: FIX, now: () => Date.UTC(2026, 10, 28), ...over,
});

describe('TelemetryCollector', () => {
  it('reads temperature, load, memory, uptime and throttling from a Pi 4 fixture tree', async () => {
    const s = await pi4({ sources: { outboxDepth: () => 3, link: () => ({ reconnects: 4, knockOffs: 1 }), camera: () => ({ fps: 14.8, drops: 2 }), outcomes: () => ({ match: 5 }) } }).sample();
    expect(s).toMatchObject({
      at: '2026-11-28T00:00:00.000Z', cpuTempC: 61.8, load: [0.52, 0.61, 0.7],
      memory: { totalBytes: 3884244 * 1024, availableBytes: 2412040 * 1024 }, uptimeS: 86400.25,
      throttling: { raw: 0x50005, underVoltage: true, throttled: true, freqCapped: false, underVoltageOccurred: true },
      camera: { fps: 14.8, drops: 2 }, outboxDepth: 3, link: { reconnects: 4, knockOffs: 1 }, outcomes: { match: 5 },
    });
    expect(s.disk!.totalBytes).toBeGreaterThan(0);
  });

  it('reports null for what a board does not expose, and falls back to vcgencmd once', async () => {
    const vcgencmd = vi.fn(async () => { throw new Error('ENOENT'); });
    const bare = new TelemetryCollector({ sysRoot: join(FIX, 'bare', 'sys'), procRoot: join(FIX, 'bare', 'proc'),
      etcRoot: join(FIX, 'bare', 'etc'), diskPath: join(FIX, 'missing'), vcgencmd });
    const s = await bare.sample();
    expect(s).toMatchObject({ cpuTempC: null, load: null, memory: null, disk: null, uptimeS: null, throttling: null,
      camera: null, outboxDepth: null, link: null });
    await bare.sample();
    expect(vcgencmd).toHaveBeenCalledTimes(1);
    const viaTool = new TelemetryCollector({ sysRoot: join(FIX, 'bare', 'sys'), diskPath: FIX,
      vcgencmd: async () => 'throttled=0x20002\n' });
    expect((await viaTool.sample()).throttling).toMatchObject({ freqCapped: true, freqCappedOccurred: true, underVoltage: false });
  });

  it('decodes every documented throttling bit', () => {
    expect(decodeThrottled(0xf000f)).toEqual({ raw: 0xf000f, underVoltage: true, freqCapped: true, throttled: true,
      softTempLimit: true, underVoltageOccurred: true, freqCappedOccurred: true, throttledOccurred: true, softTempLimitOccurred: true });
  });

  it('inventory takes model, serial and OS from the device tree and os-release', async () => {
    expect(await pi4().inventory('0.1.0', 'abc')).toMatchObject({
      model: 'Raspberry Pi 4 Model B Rev 1.5', serial: '10000000abcdef01', os: 'Debian GNU/Linux 12 (bookworm)',
      agent: '0.1.0', models: 'abc',
    });
  });
});

/** A timer the test fires by hand: the sample does real file I/O, which fake timers cannot advance. */
class ManualTimer {
  pending = new Map<number, { fn: () => void; ms: number }>();
  private next = 0;
  setTimeout = (fn: () => void, ms: number) => { this.pending.set(++this.next, { fn, ms }); return this.next; };
  clearTimeout = (h: unknown) => { this.pending.delete(h as number); };
  fire(): void {
    const due = [...this.pending.entries()];
    this.pending.clear();
    for (const [, t] of due) t.fn();
  }
}

describe('TelemetryReporter', () => {
  it('publishes once per interval on the injected timer and stops on abort', async () => {
    const got: TelemetrySample[] = [];
    const ac = new AbortController();
    const timer = new ManualTimer();
    const r = new TelemetryReporter({ collector: pi4(), publish: (s) => got.push(s), intervalMs: 10_000,
      logger: createLogger({ destination: new LogSink() }), timer });
    r.start(ac.signal);
    expect([...timer.pending.values()].map((t) => t.ms)).toEqual([10_000]);
    expect(got).toHaveLength(0);
    for (let i = 1; i <= 3; i++) {
      timer.fire();
      await vi.waitFor(() => expect(got).toHaveLength(i));
      await vi.waitFor(() => expect(timer.pending.size).toBe(1));
    }
    ac.abort();
    expect(timer.pending.size).toBe(0);
  });
});
