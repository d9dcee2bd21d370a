import { errorMessage } from '../lib/errors.ts';
import type { FrameSource } from './frame-source.ts';

export interface CameraProbe {
  ok: boolean;
  frames: number;
  /** measured over the frames received (first to last) */
  fps: number;
  width?: number;
  height?: number;
  drops: number;
  /** start() to first frame, ms */
  firstFrameMs?: number;
  error?: string;
}

/**
 * Start a source, read frames for `seconds` (or until `signal` aborts), stop it, and say what arrived. Used by
 * `regterm doctor`; frames are zeroed as soon as they are counted.
 */
function noFrame(source: FrameSource, seconds: number): string {
  const h = source.health();
  return `no frame within ${seconds} s${h.status === 'camera_unavailable' ? ` (${h.reason})` : ''}`;
}

export async function probeCamera(source: FrameSource, seconds: number, now: () => number = Date.now, signal?: AbortSignal): Promise<CameraProbe> {
  const ac = new AbortController();
  const stopOuter = (): void => ac.abort();
  signal?.addEventListener('abort', stopOuter, { once: true });
  const timer = setTimeout(() => ac.abort(), seconds * 1000);
  const t0 = now();
  let frames = 0;
  let first: number | undefined;
  let last: number | undefined;
  let size: { width: number; height: number } | undefined;
  try {
    await source.start(ac.signal);
    for await (const f of source.frames(ac.signal)) {
      const t = now();
      first ??= t;
      last = t;
      frames++;
      size = { width: f.width, height: f.height };
      f.data.fill(0);
    }
    const fps = frames > 1 && first !== undefined && last !== undefined && last > first ? ((frames - 1) * 1000) / (last - first) : 0;
    return { ok: frames > 0, frames, fps, ...size, drops: source.stats().drops, firstFrameMs: first === undefined ? undefined : first - t0, ...(frames ? {} : { error: noFrame(source, seconds) }) };
  } catch (e: unknown) {
    return { ok: false, frames, fps: 0, drops: 0, error: errorMessage(e) };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stopOuter);
    await source.stop();
  }
}
