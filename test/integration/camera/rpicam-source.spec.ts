import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRpicamSource, rpicamEncoding } from '../../../src/camera/rpicam-source.ts';
import type { Frame, FrameSource } from '../../../src/camera/frame-source.ts';
import { tightLayout } from '../../../src/camera/i420.ts';
import { isRegtermError } from '../../../src/lib/errors.ts';
import { VIDEO, FAKE_RPICAM, fakeRpicamSpawn, childPids, isAlive, logSink, referenceFrames, waitFor } from './helpers.ts';

// The real child-process path: src/camera spawns scripts/fake-rpicam-vid, which writes padded I420 from a real clip.
const FPS = 10;
const running: FrameSource[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

function source(width: number, height: number, env: { align?: number } = {}, extra: { stallMs?: number } = {}) {
  const sink = logSink();
  const src = createRpicamSource({
    width, height, fps: FPS, strideAlign: env.align ?? 64, bin: FAKE_RPICAM, logger: sink.logger,
    spawn: fakeRpicamSpawn({ FAKE_RPICAM_VIDEO: VIDEO, FAKE_RPICAM_STRIDE_ALIGN: String(env.align ?? 64) }),
    backoff: { initialMs: 50, maxMs: 200 }, stallMs: extra.stallMs ?? 3000,
  });
  running.push(src);
  return { src, ...sink };
}

async function take(src: FrameSource, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of src.frames()) {
    out.push(f);
    if (out.length === n) break;
  }
  return out;
}

describe('rpicam backend with the fake rpicam-vid', () => {
  it.each([
    [640, 480, 64],
    [650, 360, 64],
    [322, 242, 64],
    [650, 362, 128],
  ])('delivers intact tight frames at %ix%i (stride align %i)', async (w, h, align) => {
    const { src } = source(w, h, { align });
    await src.start();
    const frames = await take(src, 4);
    const ref = referenceFrames(VIDEO, w, h, FPS, frames[3].seq + 1, rpicamEncoding(w, h));
    const size = tightLayout(w, h).frameBytes;
    for (const f of frames) {
      expect(f).toMatchObject({ width: w, height: h, format: 'i420', encoding: { matrix: 'bt601', range: 'limited' } });
      expect(f.data.length).toBe(size);
      expect(Buffer.from(f.data).equals(Buffer.from(ref.subarray(f.seq * size, (f.seq + 1) * size)))).toBe(true);
    }
    expect(frames.map((f) => f.seq)).toEqual([...frames.map((f) => f.seq)].sort((a, b) => a - b));
  });

  it('logs the child stderr lines and leaves no process, pipe or timer after stop()', async () => {
    const count = (): Record<string, number> => {
      const c: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) c[r] = (c[r] ?? 0) + 1;
      return c;
    };
    const before = count();
    const { src, lines } = source(320, 240);
    await src.start();
    await take(src, 2);
    const [pid] = childPids(lines());
    expect(isAlive(pid)).toBe(true);
    await src.stop();
    expect(isAlive(pid)).toBe(false);
    await new Promise((r) => setTimeout(r, 50)); // libuv releases the closed process handle on a later loop turn
    const after = count();
    for (const kind of ['ProcessWrap', 'PipeWrap', 'Timeout']) expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    expect(lines().some((l) => l.stream === 'stderr' && String(l.line).includes('stride 320'))).toBe(true);
    await src.stop(); // idempotent
  });

  it('restarts a killed child, reports camera_unavailable meanwhile, and frames resume', async () => {
    const { src, lines } = source(320, 240);
    await src.start();
    await take(src, 2);
    const [first] = childPids(lines());
    process.kill(first, 'SIGKILL');
    await waitFor(() => src.health().status === 'camera_unavailable', 2000, 'unavailable');
    const after = await take(src, 2);
    expect(src.health().status).toBe('ok');
    expect(src.stats().restarts).toBe(1);
    const pids = childPids(lines());
    expect(pids).toHaveLength(2);
    expect(after[0].seq).toBeGreaterThan(1);
    expect(lines().some((l) => l.msg === 'camera child exited' && l.signal === 'SIGKILL')).toBe(true);
    await src.stop();
    expect(pids.some(isAlive)).toBe(false);
  });

  it('kills and restarts a stalled child (no frame within stallMs)', async () => {
    const { src, lines } = source(320, 240, {}, { stallMs: 600 });
    await src.start();
    await take(src, 1);
    // the child delivering frames now (on a loaded machine a slow first frame may already have cost a restart)
    const before = childPids(lines());
    const current = before.at(-1)!;
    const stalls = (): number => lines().filter((l) => l.msg === 'camera stalled; killing child').length;
    const stallsBefore = stalls();
    process.kill(current, 'SIGSTOP');
    await waitFor(() => stalls() > stallsBefore, 3000, 'stall');
    expect(src.health()).toMatchObject({ status: 'camera_unavailable', reason: 'no frame for 600 ms' });
    await take(src, 1);
    expect(isAlive(current)).toBe(false);
    // a new child delivers (on a loaded machine its own slow start may cost one more restart, so not exactly one)
    const after = childPids(lines());
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.at(-1)).not.toBe(current);
  });

  it('a slow consumer sees the newest frame and a drop count', async () => {
    const { src } = source(320, 240);
    await src.start();
    const seqs: number[] = [];
    for await (const f of src.frames()) {
      seqs.push(f.seq);
      if (seqs.length === 3) break;
      await new Promise((r) => setTimeout(r, 450)); // ~4 frames arrive meanwhile at 10 fps
    }
    expect(seqs[2] - seqs[1]).toBeGreaterThan(1);
    expect(src.stats().drops).toBeGreaterThan(0);
    expect(src.stats().frames).toBeGreaterThanOrEqual(seqs[2] + 1);
  });

  it('a missing binary rejects start() with a camera error', async () => {
    const { logger } = logSink();
    const src = createRpicamSource({ width: 320, height: 240, fps: 10, bin: '/nonexistent/rpicam-vid', logger });
    const err = await src.start().then(() => undefined, (e: unknown) => e);
    expect(isRegtermError(err) && err.exitCode).toBe(4);
    expect(String(err)).toMatch(/cannot run \/nonexistent\/rpicam-vid/);
  });
});

describe('rpicam supervision without a camera', () => {
  it('restarts with capped exponential backoff, reports why, and stop() ends the cycle', async () => {
    const bin = fileURLToPath(new URL('../../fixtures/rpicam/no-camera-rpicam-vid', import.meta.url));
    const { logger, lines } = logSink();
    const src = createRpicamSource({ width: 320, height: 240, fps: 10, bin, logger, backoff: { initialMs: 40, maxMs: 160, random: () => 1 } });
    running.push(src);
    await src.start();
    await waitFor(() => lines().filter((l) => l.msg === 'camera child exited').length >= 5, 5000, 'five exits');
    const health = src.health();
    expect(health.status).toBe('camera_unavailable');
    expect(health.status === 'camera_unavailable' && health.reason).toMatch(/code 255.*no cameras available/);
    const delays = lines().filter((l) => l.msg === 'camera child exited').map((l) => l.restartInMs);
    expect(delays.slice(0, 5)).toEqual([40, 80, 160, 160, 160]);
    await src.stop();
    const spawned = childPids(lines()).length;
    await new Promise((r) => setTimeout(r, 300));
    expect(childPids(lines()).length).toBe(spawned);
    expect(childPids(lines()).some(isAlive)).toBe(false);
  });
});
