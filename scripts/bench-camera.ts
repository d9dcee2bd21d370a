/**
 * Camera hot-path benchmark (not a test): frame splitting + padding removal, I420 → RGB (full and half size) and
 * I420 → gray at 640x480 and 1280x720, and the real child-process path (scripts/fake-rpicam-vid →
 * ChildFrameSource) for a few seconds. Prints JSON: ms per frame, frames per second on one core, and the CPU share of one core at 30 fps.
 *   node --import tsx scripts/bench-camera.ts [--seconds 5]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { FrameSplitter } from '../src/camera/frame-splitter.ts';
import { i420ToGray, i420ToRgb, i420ToRgbHalf, paddedLayout, tightLayout, toTightI420, type I420Layout } from '../src/camera/i420.ts';
import { createRpicamSource, rpicamEncoding } from '../src/camera/rpicam-source.ts';
import { createLogger } from '../src/lib/logger.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string' } } });
const liveSeconds = Number(values.seconds ?? 5);

function timeIt(label: string, frames: number, fn: (i: number) => void): { op: string; msPerFrame: number; fps: number; cpuAt30fps: string } {
  for (let i = 0; i < 5; i++) fn(i); // warm-up (JIT)
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) fn(i);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / frames;
  return { op: label, msPerFrame: Math.round(ms * 1000) / 1000, fps: Math.round(1000 / ms), cpuAt30fps: `${((ms * 30) / 10).toFixed(1)}%` };
}

function splitterBench(layout: I420Layout, frames: number): ReturnType<typeof timeIt> {
  const stream = new Uint8Array(layout.frameBytes * 4).map((_, i) => i & 0xff);
  const CHUNK = 65536; // a pipe read
  const s = new FrameSplitter(layout.frameBytes);
  const sink = (raw: Uint8Array): void => {
    toTightI420(raw, layout);
  };
  return timeIt(`split+tight ${layout.width}x${layout.height} stride ${layout.yStride}`, frames, () => {
    const off0 = 0;
    for (let off = off0; off < layout.frameBytes; off += CHUNK) s.push(stream.subarray(off, Math.min(off + CHUNK, layout.frameBytes)), sink);
  });
}

const results: unknown[] = [];
for (const [w, h] of [[640, 480], [1280, 720]] as const) {
  const frames = w === 640 ? 300 : 120;
  results.push(splitterBench(paddedLayout(w, h, 64), frames));
  results.push(splitterBench(paddedLayout(w + 10, h, 64), frames));
  const yuv = new Uint8Array(tightLayout(w, h).frameBytes).map((_, i) => (i * 7) & 0xff);
  const frame = { width: w, height: h, data: yuv, encoding: rpicamEncoding(w, h) };
  const rgb = new Uint8Array(w * h * 3);
  const gray = new Uint8Array(w * h);
  results.push(timeIt(`i420ToRgb ${w}x${h}`, frames, () => i420ToRgb(frame, rgb)));
  const half = new Uint8Array((w >> 1) * (h >> 1) * 3);
  results.push(timeIt(`i420ToRgbHalf ${w}x${h} → ${w >> 1}x${h >> 1}`, frames, () => i420ToRgbHalf(frame, half)));
  results.push(timeIt(`i420ToGray ${w}x${h} (view)`, frames, () => i420ToGray(w, h, yuv)));
  results.push(timeIt(`i420ToGray ${w}x${h} (copy)`, frames, () => i420ToGray(w, h, yuv, gray)));
}

// The real path: fake rpicam-vid child → stdout pipe → splitter → newest-frame mailbox → consumer converting to RGB.
async function live(w: number, h: number, fps: number): Promise<unknown> {
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const src = createRpicamSource({ width: w, height: h, fps, bin: fileURLToPath(new URL('./fake-rpicam-vid', import.meta.url)), logger });
  await src.start();
  const rgb = new Uint8Array(w * h * 3);
  let n = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  let t0 = 0;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), liveSeconds * 1000 + 1000);
  for await (const f of src.frames(ac.signal)) {
    if (n === 0) {
      cpu0 = process.cpuUsage(); // from the first frame: excludes child start-up
      t0 = performance.now();
    }
    i420ToRgb(f, rgb);
    n++;
  }
  clearTimeout(timer);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const stats = src.stats();
  await src.stop();
  return {
    op: `live rpicam stand-in ${w}x${h}@${fps} → RGB`,
    frames: n, measuredFps: Math.round((n / wallMs) * 10000) / 10, drops: stats.drops,
    agentCpuShareOfOneCore: `${(((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(1)}%`,
  };
}
results.push(await live(640, 480, 30));
results.push(await live(1280, 720, 30));
process.stdout.write(`${JSON.stringify({ node: process.version, arch: process.arch, results }, null, 2)}\n`);
