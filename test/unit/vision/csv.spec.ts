import { describe, expect, it } from 'vitest';
import { isUsageError } from '../../../src/lib/errors.ts';
import { parseCsv } from '../../../src/vision/csv.ts';

describe('data CSV (eval pairs and labels)', () => {
  it('keeps a quoted field with a comma and a doubled quote as one cell', () => {
    const rows = parseCsv('file_a,file_b,same\n"ann, 1.jpg","say ""cheese"".jpg",1\r\nb.jpg,c.jpg,0\n\n', 'pairs.csv', ['file_a', 'file_b', 'same']);
    expect(rows).toEqual([
      { file_a: 'ann, 1.jpg', file_b: 'say "cheese".jpg', same: '1' },
      { file_a: 'b.jpg', file_b: 'c.jpg', same: '0' },
    ]);
  });

  it('names missing columns and an unclosed quote', () => {
    for (const [text, msg] of [['file,label\na.jpg,real\n', /missing column\(s\) attack_type/], ['file,label,attack_type\n"a.jpg,real,\n', /Quote Not Closed/]] as const) {
      let err: unknown;
      try {
        parseCsv(text, 'labels.csv', ['file', 'label', 'attack_type']);
      } catch (e: unknown) {
        err = e;
      }
      expect(isUsageError(err)).toBe(true);
      expect(String(err)).toMatch(msg);
    }
  });
});
