import { describe, expect, it } from 'vitest';
import { parseCsv, parseEventsCsv } from '../../../src/camera/events-csv.ts';
import { isUsageError } from '../../../src/lib/errors.ts';

describe('events CSV', () => {
  it('parses quoted fields with commas and doubled quotes', () => {
    expect(parseCsv('a,b\r\n1,"x, ""y"""\n\n')).toEqual([['a', 'b'], ['1', 'x, "y"']]);
  });

  it('turns rows into ms intervals and keeps extra columns', () => {
    const ev = parseEventsCsv('start_s,end_s,event,confidence,note\n2.56,2.80,blink,high,"closing 2.56, reopened 2.80"\n');
    expect(ev).toEqual([{ startMs: 2560, endMs: 2800, event: 'blink', extra: { confidence: 'high', note: 'closing 2.56, reopened 2.80' } }]);
  });

  it.each([
    ['start,end,event\n1,2,blink\n', /header/],
    ['start_s,end_s,event\n3,2,blink\n', /line 2/],
    ['start_s,end_s,event\nx,2,blink\n', /line 2/],
    ['start_s,end_s,event\n1,2,"blink\n', /unterminated/],
  ])('rejects bad input %#', (text, msg) => {
    let err: unknown;
    try {
      parseEventsCsv(text);
    } catch (e: unknown) {
      err = e;
    }
    expect(isUsageError(err)).toBe(true);
    expect(String(err)).toMatch(msg);
  });
});
