import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError, errorMessage } from '../lib/errors.ts';
import { parseEventsCsv } from './events-csv.ts';
import { saveRecording, type Recording } from './recording.ts';
import { probeVideo } from './video-probe.ts';

export interface ImportOptions {
  video: string;
  /** `start_s,end_s,event,...` annotations → groundTruth */
  eventsCsv?: string;
  outDir: string;
  ffprobeBin?: string;
}

/**
 * Build a recording from an existing video file (and optional events CSV) without copying the video: recording.json
 * references it by absolute path and keeps its own frame timestamps, so replay shows exactly the clip's frames.
 */
export async function importRecording(o: ImportOptions): Promise<Recording> {
  const rec = await recordingFromVideo(o);
  await saveRecording(o.outDir, rec);
  return rec;
}

/** The recording describing a video file (and its events), in memory. */
export async function recordingFromVideo(o: Omit<ImportOptions, 'outDir'>): Promise<Recording> {
  const video = resolve(o.video);
  const info = await probeVideo(video, o.ffprobeBin);
  let groundTruth;
  if (o.eventsCsv) {
    let text: string;
    try {
      text = await readFile(o.eventsCsv, 'utf8');
    } catch (e: unknown) {
      throw new UsageError(`cannot read events CSV ${o.eventsCsv} (${errorMessage(e)})`, { cause: e });
    }
    groundTruth = parseEventsCsv(text, o.eventsCsv);
  }
  return {
    format: 'regterm-recording',
    version: 1,
    createdAt: new Date().toISOString(),
    camera: { backend: 'import', device: video },
    width: info.width,
    height: info.height,
    fps: Math.round(info.fps * 1000) / 1000,
    frames: { kind: 'video', file: video, count: info.timestampsMs.length },
    timestampsMs: info.timestampsMs,
    prompts: [],
    buttons: [],
    ...(groundTruth ? { groundTruth } : {}),
  };
}
