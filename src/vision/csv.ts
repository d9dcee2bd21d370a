/** The data CSVs (header row, comma-separated, no quoted commas in the columns we read). */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../lib/errors.ts';

export async function readCsv(path: string, required: readonly string[]): Promise<Record<string, string>[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e: unknown) {
    throw new UsageError(`${path}: cannot be read`, { cause: e });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new UsageError(`${path}: empty CSV`);
  const header = lines[0].split(',').map((h) => h.trim());
  const missing = required.filter((r) => !header.includes(r));
  if (missing.length) throw new UsageError(`${path}: missing column(s) ${missing.join(', ')}`);
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const row: Record<string, string> = {};
    header.forEach((h, i) => {
      row[h] = (cells[i] ?? '').trim();
    });
    return row;
  });
}
