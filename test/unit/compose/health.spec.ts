import { describe, expect, it } from 'vitest';
import type { CameraHealth, FrameSourceStats } from '../../../src/camera/frame-source.ts';
import type { LinkHealth } from '../../../src/carrier/link.ts';
import { HealthMonitor } from '../../../src/compose/health.ts';
import type { ClockSync } from '../../../src/device/clock-sync.ts';

function setup(kind: 'rpicam' | 'replay' = 'rpicam') {
  let t = 1_000_000;
  const stats: FrameSourceStats = { frames: 0, drops: 0, fps: 0, restarts: 0 };
  let camera: CameraHealth = { status: 'ok' };
  let clock: ClockSync = 'synchronized';
  let expiring = false;
  const link: LinkHealth = { connected: true, outboxDepth: 0, reconnects: 0, knockOffs: 0, loopAlive: true };
  const monitor = new HealthMonitor({
    camera: { kind, stats: () => stats, health: () => camera },
    link: { health: () => link },
    frameMaxAgeMs: 5000, brokerMaxAgeMs: 60_000, outboxMax: 100, clock: () => clock, now: () => t,
    certificateExpiring: () => expiring,
  });
  return {
    monitor, stats, link,
    advance: (ms: number) => { t += ms; },
    now: () => t,
    setCamera: (h: CameraHealth) => { camera = h; },
    setClock: (c: ClockSync) => { clock = c; },
    setExpiring: (e: boolean) => { expiring = e; },
  };
}

describe('HealthMonitor: the watchdog asks only what a restart can fix', () => {
  it('stays alive through an unplugged camera and a broker outage of any length', () => {
    const s = setup();
    s.monitor.start();
    s.setCamera({ status: 'camera_unavailable', reason: 'rpicam-vid exited 255', sinceMs: 0 });
    Object.assign(s.link, { connected: false, lastActivityAt: undefined });
    for (let minute = 0; minute < 10; minute++) {
      s.advance(60_000);
      expect(s.monitor.liveness()).toEqual({ healthy: true, reasons: [] });
    }
    expect(s.monitor.condition()).toEqual(['camera_unavailable', 'broker_unreachable']);
  });

  it('is not alive when the link stopped trying to reconnect', () => {
    const s = setup();
    s.link.loopAlive = false;
    expect(s.monitor.liveness()).toEqual({ healthy: false, reasons: ['link: the reconnect loop stopped'] });
  });
});

describe('HealthMonitor: the condition behind the retained status', () => {
  it('is online while frames and broker packets keep coming', () => {
    const s = setup();
    s.monitor.start();
    for (let i = 0; i < 10; i++) {
      s.advance(4000);
      s.stats.frames += 60;
      s.link.lastActivityAt = s.now();
      expect(s.monitor.condition()).toEqual([]);
    }
  });

  it('reports a live camera that stopped delivering frames, and clears when frames return', () => {
    const s = setup();
    s.monitor.start();
    s.link.lastActivityAt = s.now();
    s.advance(5001);
    expect(s.monitor.condition()).toEqual(['camera_unavailable']);
    s.stats.frames = 1;
    expect(s.monitor.condition()).toEqual([]);
  });

  it('does not expect frames from a finished replay, but does report its failure', () => {
    const s = setup('replay');
    s.monitor.start();
    s.advance(30_000);
    s.link.lastActivityAt = s.now();
    expect(s.monitor.condition()).toEqual([]);
    s.setCamera({ status: 'camera_unavailable', reason: 'ffmpeg exited 1', sinceMs: 0 });
    expect(s.monitor.condition()).toEqual(['camera_unavailable']);
  });

  it('reports a broker that was never reached or went quiet (measured from start), an unsynchronised clock and a nearly full outbox', () => {
    const s = setup();
    s.monitor.start();
    s.advance(60_001);
    s.stats.frames = 5;
    expect(s.monitor.condition()).toEqual(['broker_unreachable']);
    s.link.lastActivityAt = s.now();
    s.setClock('unsynchronized');
    s.link.outboxDepth = 80;
    expect(s.monitor.condition()).toEqual(['clock_unsynchronised', 'outbox_near_full']);
    s.setClock('unknown');
    s.link.outboxDepth = 79;
    expect(s.monitor.condition()).toEqual([]);
  });

  it('reports a client certificate inside its renewal margin until the renewed one is in use', () => {
    const s = setup();
    s.monitor.start();
    s.setExpiring(true);
    expect(s.monitor.condition()).toEqual(['certificate_expiring']);
    s.setExpiring(false);
    expect(s.monitor.condition()).toEqual([]);
  });
});

describe('HealthMonitor: models failing', () => {
  it('reports models_failing after two sessions in a row failed by the engine, and clears it after a good one', () => {
    let failures = 0;
    const link: LinkHealth = { connected: true, outboxDepth: 0, reconnects: 0, knockOffs: 0, loopAlive: true, lastActivityAt: 1 };
    const monitor = new HealthMonitor({
      camera: { kind: 'replay', stats: () => ({ frames: 0, drops: 0, fps: 0, restarts: 0 }), health: () => ({ status: 'ok' }) },
      link: { health: () => link }, frameMaxAgeMs: 5000, brokerMaxAgeMs: 60_000, outboxMax: 100, engineFailures: () => failures, now: () => 2,
    });
    monitor.start();
    failures = 1;
    expect(monitor.condition()).toEqual([]);
    failures = 2;
    expect(monitor.condition()).toEqual(['models_failing']);
    failures = 0;
    expect(monitor.condition()).toEqual([]);
  });
});
