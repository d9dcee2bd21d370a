/** The annotated clips whose signals an `regterm eval events --cache DIR` run left in DIR, with their annotations. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventsCsv } from '../src/camera/events-csv.ts';
import { annotatedClips } from '../src/cli/eval-events.ts';
import type { TruthEvent } from '../src/session/detectors/event-score.ts';
import type { FrameSignals } from '../src/session/signals.ts';

export interface CachedClip { name: string; signals: FrameSignals[]; t0Ms: number; truth: TruthEvent[] }

export function cachedClips(cacheDir: string, dirs: readonly string[]): CachedClip[] {
  return annotatedClips([...dirs]).flatMap((c) => {
    const file = join(cacheDir, `${c.folder}--${c.clip}.json`);
    if (!existsSync(file)) return [];
    const { signals, t0Ms } = JSON.parse(readFileSync(file, 'utf8')) as { signals: FrameSignals[]; t0Ms: number };
    const truth = parseEventsCsv(readFileSync(c.annotations, 'utf8')).map((e) => ({
      startS: e.startMs / 1000, endS: e.endMs / 1000, event: e.event, confidence: e.extra?.confidence,
    }));
    return [{ name: `${c.folder}/${c.clip}`, signals, t0Ms, truth }];
  });
}
