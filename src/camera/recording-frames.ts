import { spawn as nodeSpawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { UsageError, errorMessage } from '../lib/errors.ts';
import type { SpawnFn } from './child-frame-source.ts';
import { FrameSplitter } from './frame-splitter.ts';
import { FULL_BT601, tightLayout, type YuvEncoding } from './i420.ts';
import { framesPath, type Recording } from './recording.ts';

/** The encoding of a recording's frames: as recorded, or full range for a video (ffmpeg is asked for it below). */
export function recordingEncoding(rec: Recording): YuvEncoding {
  return rec.frames.kind === 'i420' ? rec.frames.encoding ?? FULL_BT601 : FULL_BT601;
}

/**
 * The frames of a recording in order as tight I420 buffers in `recordingEncoding` (one fresh buffer each), at most
 * `rec.frames.count` of them. Pulling drives the reading (backpressure: a video is decoded only as fast as the
 * consumer takes frames). Ends early, releasing the file or the ffmpeg child, when `signal` aborts or the consumer
 * stops iterating.
 */
export async function* readRecordingFrames(
  dir: string, rec: Recording, signal: AbortSignal, spawn: SpawnFn = nodeSpawn, ffmpegBin = 'ffmpeg',
): AsyncGenerator<Uint8Array> {
  const size = tightLayout(rec.width, rec.height).frameBytes;
  const path = framesPath(dir, rec);
  if (rec.frames.kind === 'i420') {
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (e: unknown) {
      throw new UsageError(`recording ${dir}: cannot open ${path} (${errorMessage(e)})`, { cause: e });
    }
    try {
      for (let i = 0; i < rec.frames.count && !signal.aborted; i++) {
        const buf = new Uint8Array(size);
        const { bytesRead } = await fh.read(buf, 0, size, i * size);
        if (bytesRead < size) return;
        yield buf;
      }
    } finally {
      await fh.close();
    }
    return;
  }
  const child = spawn(ffmpegBin, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', path, '-an',
    '-vf', `scale=${rec.width}:${rec.height}:out_range=full`, '-fps_mode', 'passthrough', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const onAbort = (): void => {
    child.kill('SIGKILL');
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const splitter = new FrameSplitter(size);
  let delivered = 0;
  try {
    const stdout = child.stdout;
    if (!stdout) throw new Error('ffmpeg has no stdout');
    for await (const chunk of stdout as AsyncIterable<Buffer>) {
      const ready: Uint8Array[] = [];
      splitter.push(chunk, (f) => ready.push(f));
      for (const f of ready) {
        if (delivered >= rec.frames.count || signal.aborted) return;
        delivered++;
        yield f;
      }
    }
    const code = await Promise.race([closed, spawnError]);
    if (code instanceof Error) throw new UsageError(`recording ${dir}: cannot run ${ffmpegBin} (${code.message})`, { cause: code });
    if (code !== 0 && !signal.aborted) throw new UsageError(`recording ${dir}: cannot decode ${path}: ${stderr.trim().split('\n').pop() ?? ''}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed;
  }
}
