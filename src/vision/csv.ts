/** The data CSVs: a header row, then one record per line (RFC 4180: quoted fields may hold commas, quotes, newlines). */
import { readFile } from 'node:fs/promises';
import { csvRows } from '../lib/csv-rows.ts';
import { UsageError } from '../lib/errors.ts';

/** Header-keyed rows, every cell trimmed; a missing cell is ''. */
export function parseCsv(text: string, label: string, required: readonly string[]): Record<string, string>[] {
  let rows: string[][];
  try {
    rows = csvRows(text, { trim: true });
  } catch (e: unknown) {
    throw new UsageError(`${label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const [header, ...records] = rows;
  if (!header) throw new UsageError(`${label}: empty CSV`);
  const missing = required.filter((r) => !header.includes(r));
  if (missing.length) throw new UsageError(`${label}: missing column(s) ${missing.join(', ')}`);
  return records.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
}

export async function readCsv(path: string, required: readonly string[]): Promise<Record<string, string>[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e: unknown) {
    throw new UsageError(`${path}: cannot be read`, { cause: e });
  }
  return parseCsv(text, path, required);
}
