import { csvRows } from '../lib/csv-rows.ts';
import { UsageError } from '../lib/errors.ts';

/**
 * Ground-truth event annotations as CSV: a header with at least `start_s,end_s,event`, any further columns
 * (confidence, note, ...) kept as strings. Fields may be double-quoted ("" is a quote; csv-parse), as in
 * the face data sets' <set>/<clip>.events.csv. Intervals are [start, end) in seconds from the first frame.
 */
/** The columns an events CSV must have. */
export const EVENTS_COLUMNS = ['start_s', 'end_s', 'event'] as const;

export interface GroundTruthEvent {
  startMs: number;
  endMs: number;
  event: string;
  extra?: Record<string, string>;
}

export function parseEventsCsv(text: string, label = 'events CSV'): GroundTruthEvent[] {
  let parsed: string[][];
  try {
    parsed = csvRows(text);
  } catch (e: unknown) {
    throw new UsageError(`${label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const [header, ...rows] = parsed;
  if (!header) throw new UsageError(`${label}: empty`);
  const col = (name: string): number => header.indexOf(name);
  const [si, ei, ni] = EVENTS_COLUMNS.map(col);
  if (si < 0 || ei < 0 || ni < 0) throw new UsageError(`${label}: header must have ${EVENTS_COLUMNS.join(',')} (got ${header.join(',')})`);
  return rows.map((r, k) => {
    const start = Number(r[si]);
    const end = Number(r[ei]);
    const event = r[ni]?.trim() ?? '';
    if (!Number.isFinite(start) || !Number.isFinite(end) || end < start || start < 0 || !event) {
      throw new UsageError(`${label}: line ${k + 2}: need start_s <= end_s (seconds) and an event name`);
    }
    const extra: Record<string, string> = {};
    header.forEach((h, i) => {
      if (i !== si && i !== ei && i !== ni && r[i] !== undefined && r[i] !== '') extra[h] = r[i];
    });
    return { startMs: Math.round(start * 1000), endMs: Math.round(end * 1000), event, ...(Object.keys(extra).length ? { extra } : {}) };
  });
}
