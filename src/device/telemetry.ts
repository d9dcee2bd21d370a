import { execFile } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import { arch, release } from 'node:os';
import { join } from 'node:path';
import si from 'systeminformation';
import type { Timer } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { errorMessage } from '../lib/errors.ts';

/**
 * Health telemetry. The periodic sample reads /proc, /sys and statfs directly: on this class of machine
 * systeminformation's cpuTemperature and fsSize spawn processes (milliseconds to tens of milliseconds per sample,
 * against microseconds for the direct reads). systeminformation is used only
 * for the static inventory, once at start. Roots are injectable so tests run against fixture trees.
 *
 * Every field is null when the board does not report it (no thermal zone, no Raspberry Pi firmware). Throttling comes
 * from `<sys>/devices/platform/soc/soc:firmware/get_throttled`, else `vcgencmd get_throttled`, else null.
 */
export interface TelemetrySources {
  camera?: () => { fps: number; drops: number } | undefined;
  outboxDepth?: () => number;
  /** broker link: reconnects and knock-offs (connections dropped right after CONNACK) since start */
  link?: () => { reconnects: number; knockOffs: number };
  /** counts of session outcomes since start, by decision */
  outcomes?: () => Record<string, number>;
  /** why the terminal is degraded (empty: online) and whether its clock is synchronised */
  condition?: () => { degraded: readonly string[]; clock: string };
  /** the TLS client certificate in use (tls/renewal.ts) */
  cert?: () => CertTelemetry;
}

export interface CertTelemetry {
  notAfter: string | null;
  daysLeft: number | null;
  renewing: boolean;
  lastRefusal?: string;
}

export interface TelemetryOptions {
  sysRoot?: string;
  procRoot?: string;
  etcRoot?: string;
  /** filesystem whose free space is reported (the state directory) */
  diskPath: string;
  sources?: TelemetrySources;
  /** runs `vcgencmd get_throttled`; injectable, rejects when the tool is absent */
  vcgencmd?: () => Promise<string>;
  now?: () => number;
}

export interface Throttling {
  raw: number;
  underVoltage: boolean;
  freqCapped: boolean;
  throttled: boolean;
  softTempLimit: boolean;
  underVoltageOccurred: boolean;
  freqCappedOccurred: boolean;
  throttledOccurred: boolean;
  softTempLimitOccurred: boolean;
}

export interface TelemetrySample {
  at: string;
  cpuTempC: number | null;
  load: [number, number, number] | null;
  memory: { totalBytes: number; availableBytes: number } | null;
  disk: { freeBytes: number; totalBytes: number } | null;
  uptimeS: number | null;
  throttling: Throttling | null;
  camera: { fps: number; drops: number } | null;
  outboxDepth: number | null;
  link: { reconnects: number; knockOffs: number } | null;
  outcomes: Record<string, number>;
  condition: { degraded: readonly string[]; clock: string } | null;
  cert: CertTelemetry | null;
  rssBytes: number;
}

export interface Inventory {
  model: string | null;
  serial: string | null;
  os: string | null;
  kernel: string;
  arch: string;
  agent: string;
  models: string;
}

const defaultVcgencmd = () => new Promise<string>((resolve, reject) => {
  execFile('vcgencmd', ['get_throttled'], { timeout: 2000 }, (e, stdout) => (e ? reject(e) : resolve(stdout)));
});

/** Decodes the firmware's get_throttled bit field (raspberrypi.com documentation, "vcgencmd get_throttled"). */
export function decodeThrottled(raw: number): Throttling {
  const bit = (n: number) => (raw & (1 << n)) !== 0;
  return {
    raw, underVoltage: bit(0), freqCapped: bit(1), throttled: bit(2), softTempLimit: bit(3),
    underVoltageOccurred: bit(16), freqCappedOccurred: bit(17), throttledOccurred: bit(18), softTempLimitOccurred: bit(19),
  };
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

export class TelemetryCollector {
  private vcgencmdMissing = false;
  constructor(private readonly options: TelemetryOptions) {}

  private path(root: 'sys' | 'proc' | 'etc', ...parts: string[]): string {
    const o = this.options;
    const base = root === 'sys' ? (o.sysRoot ?? '/sys') : root === 'proc' ? (o.procRoot ?? '/proc') : (o.etcRoot ?? '/etc');
    return join(base, ...parts);
  }

  async sample(): Promise<TelemetrySample> {
    const s = this.options.sources ?? {};
    const [cpuTempC, load, memory, disk, uptimeS, throttling] = await Promise.all([
      this.cpuTemp(), this.load(), this.memory(), this.disk(), this.uptime(), this.throttling(),
    ]);
    return {
      at: new Date((this.options.now ?? Date.now)()).toISOString(),
      cpuTempC, load, memory, disk, uptimeS, throttling,
      camera: s.camera?.() ?? null, outboxDepth: s.outboxDepth?.() ?? null,
      link: s.link?.() ?? null, outcomes: s.outcomes?.() ?? {}, condition: s.condition?.() ?? null,
      cert: s.cert?.() ?? null,
      rssBytes: process.memoryUsage.rss(),
    };
  }

  /** Static facts, once at start (systeminformation spawns here, which is fine once). */
  async inventory(agent: string, models: string): Promise<Inventory> {
    const dtModel = (await readText(this.path('proc', 'device-tree', 'model')))?.replace(/\0/g, '').trim();
    const dtSerial = (await readText(this.path('proc', 'device-tree', 'serial-number')))?.replace(/\0/g, '').trim();
    const cpuSerial = /^Serial\s*:\s*(\S+)/m.exec((await readText(this.path('proc', 'cpuinfo'))) ?? '')?.[1];
    const osRelease = /^PRETTY_NAME="?([^"\n]*)"?/m.exec((await readText(this.path('etc', 'os-release'))) ?? '')?.[1];
    let siModel: string | undefined;
    if (!dtModel) {
      try {
        const sys = await si.system();
        siModel = [sys.manufacturer, sys.model].filter(Boolean).join(' ') || undefined;
      } catch {
        siModel = undefined;
      }
    }
    return {
      model: dtModel || siModel || null, serial: dtSerial || cpuSerial || null, os: osRelease ?? null,
      kernel: release(), arch: arch(), agent, models,
    };
  }

  private async cpuTemp(): Promise<number | null> {
    const raw = await readText(this.path('sys', 'class', 'thermal', 'thermal_zone0', 'temp'));
    const milli = raw === null ? NaN : Number(raw.trim());
    return Number.isFinite(milli) ? Math.round(milli / 100) / 10 : null;
  }

  private async load(): Promise<[number, number, number] | null> {
    const parts = (await readText(this.path('proc', 'loadavg')))?.trim().split(/\s+/).slice(0, 3).map(Number);
    return parts && parts.length === 3 && parts.every(Number.isFinite) ? [parts[0]!, parts[1]!, parts[2]!] : null;
  }

  private async memory(): Promise<{ totalBytes: number; availableBytes: number } | null> {
    const text = (await readText(this.path('proc', 'meminfo'))) ?? '';
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
    const total = kb('MemTotal');
    const available = kb('MemAvailable');
    return Number.isFinite(total) && Number.isFinite(available) ? { totalBytes: total * 1024, availableBytes: available * 1024 } : null;
  }

  private async disk(): Promise<{ freeBytes: number; totalBytes: number } | null> {
    try {
      const st = await statfs(this.options.diskPath);
      return { freeBytes: st.bavail * st.bsize, totalBytes: st.blocks * st.bsize };
    } catch {
      return null;
    }
  }

  private async uptime(): Promise<number | null> {
    const v = Number((await readText(this.path('proc', 'uptime')))?.split(/\s+/)[0]);
    return Number.isFinite(v) ? v : null;
  }

  private async throttling(): Promise<Throttling | null> {
    const fw = await readText(this.path('sys', 'devices', 'platform', 'soc', 'soc:firmware', 'get_throttled'));
    if (fw !== null) {
      const raw = Number.parseInt(fw.trim(), 16);
      if (Number.isFinite(raw)) return decodeThrottled(raw);
    }
    if (this.vcgencmdMissing) return null;
    try {
      const out = await (this.options.vcgencmd ?? defaultVcgencmd)();
      const m = /throttled=(0x[0-9a-f]+)/i.exec(out);
      return m ? decodeThrottled(Number.parseInt(m[1]!, 16)) : null;
    } catch {
      this.vcgencmdMissing = true; // not a Pi, or no firmware tools: stop spawning every interval
      return null;
    }
  }
}

export interface TelemetryReporterOptions {
  collector: TelemetryCollector;
  publish: (sample: TelemetrySample) => void;
  intervalMs: number;
  logger: Logger;
  timer: Timer;
}

/** Samples every intervalMs and hands the sample to `publish` (CarrierLink.publishTelemetry). Stops on abort. */
export class TelemetryReporter {
  private handle?: unknown;
  private stopped = false;
  private intervalMs: number;
  private readonly log: Logger;
  constructor(private readonly options: TelemetryReporterOptions) {
    this.log = options.logger.child({ component: 'telemetry' });
    this.intervalMs = options.intervalMs;
  }

  start(signal: AbortSignal): void {
    signal.addEventListener('abort', () => this.stop(), { once: true });
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle !== undefined) this.options.timer.clearTimeout(this.handle);
  }

  /** A new interval (remote configuration) takes effect from the next sample on. */
  setIntervalMs(ms: number): void {
    this.intervalMs = ms;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.handle = this.options.timer.setTimeout(() => {
      this.options.collector.sample()
        .then((s) => { if (!this.stopped) this.options.publish(s); })
        .catch((e: unknown) => this.log.warn({ err: errorMessage(e) }, 'telemetry sample failed'))
        .finally(() => this.schedule());
    }, this.intervalMs);
  }
}
