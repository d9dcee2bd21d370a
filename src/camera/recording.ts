import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError, errorMessage } from '../lib/errors.ts';
import type { Frame } from './frame-source.ts';
import { tightLayout, type YuvEncoding } from './i420.ts';

/**
 * Recording format v1 (for hardware-in-the-loop tests and `regterm replay`): a directory with `recording.json` and
 * the frames, either
 *   - `frames.i420`: tight I420 frames back to back (width*height + 2*ceil(w/2)*ceil(h/2) bytes each) as the camera
 *     delivered them, in `frames.encoding` (absent: full-range BT.601, what recordings held before it was written), or
 *   - a video file (absolute, or relative to the directory) decoded at replay time — what `record --import` writes,
 *     so public clips are referenced in place, never copied.
 * Times are integer ms from the start of the recording. `prompts` are the LED prompts the customer saw (a state
 * change of the named LED), `buttons` the button edges, `groundTruth` optional annotated intervals [start, end).
 * A recording holds faces: it is written only by an explicit `regterm record`, never by the agent.
 */
const promptSchema = z.object({ tMs: z.number().int().nonnegative(), led: z.string().min(1), on: z.boolean() });
const buttonSchema = z.object({ tMs: z.number().int().nonnegative(), button: z.string().min(1), pressed: z.boolean() });
const truthSchema = z.object({
  startMs: z.number().int().nonnegative(),
  endMs: z.number().int().nonnegative(),
  event: z.string().min(1),
  extra: z.record(z.string(), z.string()).optional(),
});

export const recordingSchema = z
  .object({
    format: z.literal('regterm-recording'),
    version: z.literal(1),
    createdAt: z.string(),
    camera: z.object({ backend: z.enum(['rpicam', 'ffmpeg', 'replay', 'import']), device: z.string().optional() }),
    width: z.number().int().min(2).max(8192),
    height: z.number().int().min(2).max(8192),
    fps: z.number().positive(),
    frames: z.object({
      kind: z.enum(['i420', 'video']),
      file: z.string().min(1),
      count: z.number().int().nonnegative(),
      encoding: z.object({ matrix: z.enum(['bt601', 'bt709']), range: z.enum(['full', 'limited']) }).optional(),
    }),
    timestampsMs: z.array(z.number().int().nonnegative()),
    prompts: z.array(promptSchema),
    buttons: z.array(buttonSchema),
    groundTruth: z.array(truthSchema).optional(),
  })
  .refine((r) => r.timestampsMs.length === r.frames.count, { message: 'timestampsMs must have one entry per frame' })
  .refine((r) => r.timestampsMs.every((t, i, a) => i === 0 || t >= a[i - 1]), { message: 'timestampsMs must not decrease' });

export type Recording = z.infer<typeof recordingSchema>;
export type RecordedPrompt = z.infer<typeof promptSchema>;
export type RecordedButton = z.infer<typeof buttonSchema>;

export const RECORDING_FILE = 'recording.json';
export const I420_FILE = 'frames.i420';

/** Path of the frames file or video of a recording in `dir`. */
export const framesPath = (dir: string, rec: Recording): string =>
  isAbsolute(rec.frames.file) ? rec.frames.file : join(dir, rec.frames.file);

export async function loadRecording(dir: string): Promise<Recording> {
  let text: string;
  try {
    text = await readFile(join(dir, RECORDING_FILE), 'utf8');
  } catch (e: unknown) {
    throw new UsageError(`recording ${dir}: cannot read ${RECORDING_FILE} (${errorMessage(e)})`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: unknown) {
    throw new UsageError(`recording ${dir}: ${RECORDING_FILE} is not JSON (${errorMessage(e)})`, { cause: e });
  }
  const parsed = recordingSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UsageError(`recording ${dir}: invalid ${RECORDING_FILE}: ${issues}`);
  }
  return parsed.data;
}

/** Write `recording.json` atomically: `.new`, fsync, rename, fsync the directory (STYLE.md §16). */
export async function saveRecording(dir: string, rec: Recording): Promise<void> {
  recordingSchema.parse(rec);
  await mkdir(dir, { recursive: true });
  const path = join(dir, RECORDING_FILE);
  const tmp = `${path}.new`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(rec, null, 1)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const d = await open(dirname(resolve(path)), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export interface RecordingHeader {
  camera: Recording['camera'];
  width: number;
  height: number;
  fps: number;
}

/**
 * Appends frames to `frames.i420` and collects prompts and button events; `finish()` writes recording.json.
 * Times are relative to `t0Ms` (the first frame when not given).
 */
export class RecordingWriter {
  private fh: Awaited<ReturnType<typeof open>> | undefined;
  private readonly timestamps: number[] = [];
  private readonly prompts: RecordedPrompt[] = [];
  private readonly buttons: RecordedButton[] = [];
  private encoding: YuvEncoding | undefined;

  constructor(private readonly dir: string, private readonly header: RecordingHeader, private t0Ms?: number) {}

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.fh = await open(join(this.dir, I420_FILE), 'w', 0o600);
  }

  private rel(tMs: number): number {
    this.t0Ms ??= tMs;
    return Math.max(0, Math.round(tMs - this.t0Ms));
  }

  async addFrame(frame: Frame): Promise<void> {
    if (!this.fh) throw new Error('RecordingWriter.open() first');
    if (frame.format !== 'i420' || frame.width !== this.header.width || frame.height !== this.header.height) {
      throw new RangeError(`frame ${frame.width}x${frame.height} ${frame.format} does not match the recording`);
    }
    this.encoding ??= frame.encoding;
    if (frame.encoding.matrix !== this.encoding.matrix || frame.encoding.range !== this.encoding.range) {
      throw new RangeError('frame YUV encoding does not match the recording');
    }
    const bytes = tightLayout(frame.width, frame.height).frameBytes;
    await this.fh.write(frame.data, 0, bytes);
    this.timestamps.push(this.rel(frame.tsMs));
  }

  addPrompt(tMs: number, led: string, on: boolean): void {
    this.prompts.push({ tMs: this.rel(tMs), led, on });
  }

  addButton(tMs: number, button: string, pressed: boolean): void {
    this.buttons.push({ tMs: this.rel(tMs), button, pressed });
  }

  async finish(): Promise<Recording> {
    if (this.fh) {
      await this.fh.sync();
      await this.fh.close();
      this.fh = undefined;
    }
    const rec: Recording = {
      format: 'regterm-recording',
      version: 1,
      createdAt: new Date().toISOString(),
      ...this.header,
      frames: { kind: 'i420', file: I420_FILE, count: this.timestamps.length, ...(this.encoding ? { encoding: this.encoding } : {}) },
      timestampsMs: this.timestamps,
      prompts: this.prompts,
      buttons: this.buttons,
    };
    await saveRecording(this.dir, rec);
    return rec;
  }
}
