import { parse } from 'csv-parse/sync';

/**
 * A CSV text as rows of cells (RFC 4180: quoted fields may hold commas, quotes and newlines). Empty lines are
 * skipped and rows may differ in length. Every line ending counts: files edited on different systems mix them, and
 * csv-parse would otherwise take the first line's for the whole file. Throws csv-parse's error on malformed quoting.
 */
export function csvRows(text: string, options: { trim?: boolean } = {}): string[][] {
  return parse(text, { skip_empty_lines: true, relax_column_count: true, record_delimiter: ['\r\n', '\n', '\r'], trim: options.trim ?? false });
}
