import { describe, expect, it } from 'vitest';
import type { CameraHealth, FrameSourceStats } from '../../../src/camera/frame-source.ts';
import type { LinkHealth } from '../../../src/carrier/link.ts';
import { HealthMonitor } from '../../../src/compose/health.ts';

function setup(kind: 'rpicam' | 'replay' = 'rpicam') {
  let t = 1_000_000;
  const stats: FrameSourceStats = { frames: 0, drops: 0, fps: 0, restarts: 0 };
  let camera: CameraHealth = { status: 'ok' };
  const link: LinkHealth = { connected: true, outboxDepth: 0, reconnects: 0, knockOffs: 0 };
  const monitor = new HealthMonitor({
    camera: { kind, stats: () => stats, health: () => camera },
    link: { health: () => link },
    frameMaxAgeMs: 5000, brokerMaxAgeMs: 60_000, now: () => t,
  });
  return {
    monitor, stats, link,
    advance: (ms: number) => { t += ms; },
    now: () => t,
    setCamera: (h: CameraHealth) => { camera = h; },
  };
}

describe('HealthMonitor', () => {
  it('is healthy while frames and broker packets keep coming', () => {
    const s = setup();
    s.monitor.start();
    for (let i = 0; i < 10; i++) {
      s.advance(4000);
      s.stats.frames += 60;
      s.link.lastActivityAt = s.now();
      expect(s.monitor.check()).toEqual({ healthy: true, reasons: [] });
    }
  });

  it('reports a live camera that stopped delivering frames, and recovers when frames return', () => {
    const s = setup();
    s.monitor.start();
    s.link.lastActivityAt = s.now();
    s.advance(5001);
    expect(s.monitor.check()).toEqual({ healthy: false, reasons: ['camera: no frame for 5001 ms'] });
    s.stats.frames = 1;
    expect(s.monitor.check().healthy).toBe(true);
  });

  it('does not expect frames from a finished replay, but does report its failure', () => {
    const s = setup('replay');
    s.monitor.start();
    s.link.lastActivityAt = s.now();
    s.advance(30_000);
    s.link.lastActivityAt = s.now();
    expect(s.monitor.check().healthy).toBe(true);
    s.setCamera({ status: 'camera_unavailable', reason: 'ffmpeg exited 1', sinceMs: 0 });
    expect(s.monitor.check()).toEqual({ healthy: false, reasons: ['camera: ffmpeg exited 1'] });
  });

  it('reports a broker that was never reached or went quiet, measured from start', () => {
    const s = setup();
    s.monitor.start();
    s.advance(60_001);
    s.stats.frames = 5;
    expect(s.monitor.check().reasons).toEqual(['link: never reached the broker for 60001 ms']);
    s.link.lastActivityAt = s.now();
    expect(s.monitor.check().healthy).toBe(true);
    s.advance(61_000);
    s.stats.frames = 6;
    expect(s.monitor.check().reasons).toEqual(['link: no broker activity for 61000 ms']);
  });
});
