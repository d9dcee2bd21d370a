/**
 * Memory soak of the full loop (issue #7): back-to-back registration sessions through the real agent wiring
 * (DemoRig: composeAgent + embedded broker + carrier stand-in), each replaying the clip from its first frame through
 * camera → face engine (every frame analysed, selected frames embedded) → session core → signed result → outbox →
 * MQTT → verified and acked by the carrier. RSS is sampled after every session; the report is the curve, the growth
 * after warm-up and a least-squares slope in MB per 1000 frames.
 *
 * usage: node --import tsx scripts/soak.ts [--frames 10000] [--clip VIDEO] [--csv FILE] [--gc]
 *   --gc   expose and run the GC before each sample (needs node --expose-gc): separates retained memory from garbage
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import pino from 'pino';
import type { CameraHealth, Frame, FrameSource, FrameSourceStats } from '../src/camera/frame-source.ts';
import { ReplaySource } from '../src/camera/replay-source.ts';
import { DemoRig } from '../src/compose/demo/rig.ts';
import { extractJpegFrame } from '../src/compose/demo/reference-frame.ts';
import { faceDataRoot } from '../test/face-data.ts';

const { values } = parseArgs({ options: {
  frames: { type: 'string', default: '10000' }, clip: { type: 'string' }, csv: { type: 'string' }, gc: { type: 'boolean' },
} });
const DATA = faceDataRoot();
const clip = values.clip ?? join(DATA, 'liveportrait_driving_videos', 'd3.mp4');
const target = Number(values.frames);
const POLICY = { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } };

/**
 * A replay camera that plays the clip from its first frame for every reader (every session): a lockstep
 * ReplaySource per frames() call, stopped when the reader is done. Counts every frame handed out.
 */
class ReplayPerSession implements FrameSource {
  readonly kind = 'replay' as const;
  delivered = 0;
  constructor(private readonly path: string) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async *frames(signal?: AbortSignal): AsyncIterableIterator<Frame> {
    const source = new ReplaySource({ path: this.path, pace: 'fast', logger: pino({ level: 'silent' }) });
    await source.start(signal);
    try {
      for await (const frame of source.frames(signal)) {
        this.delivered++;
        yield frame;
      }
    } finally {
      await source.stop();
    }
  }
  stats(): FrameSourceStats {
    return { frames: this.delivered, drops: 0, fps: 0, restarts: 0 };
  }
  health(): CameraHealth {
    return { status: 'ok' };
  }
}

const gc = values.gc ? (globalThis as { gc?: () => void }).gc : undefined;
if (values.gc && !gc) throw new Error('--gc needs node --expose-gc');
const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
const camera = new ReplayPerSession(clip);
const rig = await DemoRig.open({ clip, logLevel: 'error', logDestination: process.stderr, camera });
const samples: Array<{ session: number; frames: number; rssMB: number; heapMB: number; externalMB: number; decision: string }> = [];
const sample = (session: number, decision: string) => {
  gc?.();
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  samples.push({ session, frames: camera.delivered, rssMB: mb(m.rss), heapMB: mb(m.heapUsed), externalMB: mb(m.external + m.arrayBuffers), decision });
  process.stderr.write(`session ${session} frames ${camera.delivered} rss ${mb(m.rss)} MB heap ${mb(m.heapUsed)} MB ${decision}\n`);
};
const t0 = performance.now();
try {
  await rig.start();
  sample(0, 'started');
  const reference = await extractJpegFrame(clip, 10.5);
  for (let i = 1; camera.delivered < target; i++) {
    const view = await rig.session(new Uint8Array(reference), POLICY, 300_000);
    if (!view.verified) throw new Error(`session ${i}: result not verified: ${view.error}`);
    sample(i, view.decision);
  }
} finally {
  await rig.close();
}
const seconds = (performance.now() - t0) / 1000;

// Warm-up: the first sessions allocate the ONNX arenas and the JIT settles; growth is judged after it.
const warm = samples.find((s) => s.frames >= 1000) ?? samples[1]!;
const tail = samples.filter((s) => s.frames >= warm.frames);
const n = tail.length;
const mx = tail.reduce((a, s) => a + s.frames, 0) / n;
const my = tail.reduce((a, s) => a + s.rssMB, 0) / n;
const slope = tail.reduce((a, s) => a + (s.frames - mx) * (s.rssMB - my), 0) / tail.reduce((a, s) => a + (s.frames - mx) ** 2, 0);
const last = samples.at(-1)!;
const report = {
  clip, onnxruntimeNode: ortVersion, node: process.version, models: rig.composed.modelsHash.slice(0, 12), frames: last.frames, sessions: last.session, seconds: Math.round(seconds),
  fps: Math.round((last.frames / seconds) * 10) / 10,
  decisions: Object.fromEntries([...new Set(samples.slice(1).map((s) => s.decision))].map((d) => [d, samples.filter((s) => s.decision === d).length])),
  rssMB: { start: samples[0]!.rssMB, warm: warm.rssMB, warmAtFrames: warm.frames, end: last.rssMB, max: Math.max(...samples.map((s) => s.rssMB)) },
  growthAfterWarmMB: Math.round((last.rssMB - warm.rssMB) * 10) / 10,
  slopeMBPer1000Frames: Math.round(slope * 1000 * 100) / 100,
  curve: samples.map((s) => `${s.frames}:${s.rssMB}`).join(" "),
};
if (values.csv) writeFileSync(values.csv, ['session,frames,rss_mb,heap_mb,external_mb,decision', ...samples.map((s) => `${s.session},${s.frames},${s.rssMB},${s.heapMB},${s.externalMB},${s.decision}`)].join('\n') + '\n');
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
