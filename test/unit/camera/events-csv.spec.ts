import { describe, expect, it } from 'vitest';
import { parseEventsCsv } from '../../../src/camera/events-csv.ts';
import { isUsageError } from '../../../src/lib/errors.ts';

describe('events CSV', () => {
  it('parses quoted fields with commas, doubled quotes and CRLF line ends', () => {
    const ev = parseEventsCsv('start_s,end_s,event,note\r\n1,2,"turn, left","a ""b"""\r\n\r\n');
    expect(ev).toEqual([{ startMs: 1000, endMs: 2000, event: 'turn, left', extra: { note: 'a "b"' } }]);
  });

  it('turns rows into ms intervals and keeps extra columns', () => {
    const ev = parseEventsCsv('start_s,end_s,event,confidence,note\n2.56,2.80,blink,high,"closing 2.56, reopened 2.80"\n');
    expect(ev).toEqual([{ startMs: 2560, endMs: 2800, event: 'blink', extra: { confidence: 'high', note: 'closing 2.56, reopened 2.80' } }]);
  });

  it.each([
    ['start,end,event\n1,2,blink\n', /header/],
    ['start_s,end_s,event\n3,2,blink\n', /line 2/],
    ['start_s,end_s,event\nx,2,blink\n', /line 2/],
    ['start_s,end_s,event\n1,2,"blink\n', /Quote Not Closed/],
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
