import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../src/session/report-svg.ts';
import { MAX_POINTS, TraceCollector } from '../../../src/session/trace.ts';
import { sampleTrace, traceFrame as frame } from '../../fixtures/session/trace.ts';

describe('session trace: numbers only', () => {
  it('keeps the per-frame scalars, the marks and the thresholds, and nothing else', () => {
    const trace = sampleTrace();
    expect(trace.points).toHaveLength(100);
    expect(trace.points[0]).toEqual({ tS: 0, faces: 1, yaw: 0, eyes: 0.9, luma: 121 });
    expect(trace.points[1]).toMatchObject({ tS: 0.04, antispoof: 0.9 });
    expect(trace.points[50]).toEqual({ tS: 2, faces: 0 });
    expect(trace.marks.map((m) => `${m.kind}:${m.label}`)).toEqual(['state:quality', 'prompt:look', 'state:challenges',
      'challenge_started:blink', 'prompt:blink', 'answer_started:blink', 'challenge_passed:blink', 'challenge_started:turn_left',
      'prompt:turn_left', 'answer_outside_window:turn_left', 'challenge_failed:turn_left']);
    // answer marks sit where the motion started: the challenge's start plus the progress event's ms
    expect(trace.marks.find((m) => m.kind === 'answer_started')?.tS).toBe(1.36);
    expect(trace.marks.find((m) => m.kind === 'answer_outside_window')?.tS).toBe(3.7);
    // Only known scalar keys: no image, landmark or embedding can reach a trace.
    const keys = new Set(trace.points.flatMap((p) => Object.keys(p)));
    expect([...keys].sort()).toEqual(['antispoof', 'eyes', 'faces', 'luma', 'tS', 'yaw']);
    const json = JSON.stringify(trace);
    expect(json.length).toBeLessThan(20_000);
    expect(json).not.toMatch(/landmark|embedding|image|data:/);
  });

  it('is bounded: frames past MAX_POINTS are not kept', () => {
    const c = new TraceCollector();
    for (let i = 0; i < MAX_POINTS + 50; i++) c.frame(frame(i * 40, {}));
    expect(c.trace().points).toHaveLength(MAX_POINTS);
  });
});

describe('session report: axes, thresholds, windows, labels', () => {
  const html = renderReport({ title: 'trace s-1', notes: [] }, sampleTrace(), []);

  it('draws each threshold the lanes are read against as a labelled line at its value', () => {
    const lines = [...html.matchAll(/<line class="threshold" data-value="([^"]+)"[^>]*y1="([^"]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(lines.map(([v]) => v)).toEqual([20, -20, 0.3, 0.8, 0.29]);
    // yaw lane -45..45 over 90 px: +20 deg at y = 90 - (65 / 90) * 90 = 25
    expect(lines[0][1]).toBe(25);
    for (const label of ['turn +20° (from frontal)', 'closed below 0.3', 'open above 0.8', 'spoof below 0.29']) expect(html).toContain(label);
  });

  it('writes prompt labels out, shades challenge windows by outcome and bands the phases', () => {
    expect([...html.matchAll(/class="prompt-label"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual(['look 0.10 s', 'blink 0.85 s', 'turn_left 2.01 s']);
    expect(html).toMatch(/class="challenge passed"[^>]*>.*?blink ✓/s);
    expect(html).toMatch(/class="challenge failed"[^>]*>.*?turn_left ✗/s);
    expect([...html.matchAll(/class="phase-label"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual(['quality', 'challenges']);
    expect(html).toContain('id="legend"');
    expect(html).toContain('Numbers only');
  });

  it('plots luminance over the session’s own range and labels the time axis', () => {
    // luma 118..121 → padded 117..122: a 3-level light flicker spans half the lane instead of 1 % of it
    expect(html).toContain('face luminance (117–122 of 0–255');
    expect(html).toMatch(/<text class="tick"[^>]*>3.5 s<\/text>/);
  });
});

describe('session trace: the light challenge', () => {
  it('keeps the LED sequence the prompt carried and draws its on chips behind the luminance lane', () => {
    const c = new TraceCollector({});
    c.frame(frame(0, {}));
    c.progress({ state: 'challenges', event: 'prompt', atMs: 1000, prompt: 'watch_light',
      detail: { lightStartMs: 1500, lightChipMs: 200, lightChips: '100110' } });
    const trace = c.trace();
    expect(trace.light).toEqual({ startS: 1.5, chipMs: 200, chips: '100110' });
    const html = renderReport({ title: 't', notes: [] }, trace, []);
    const luma = html.match(/<svg class="lane" data-series="luma"[^]*?<\/svg>/)?.[0] ?? '';
    expect([...luma.matchAll(/class="led-on"/g)]).toHaveLength(3);
    // a malformed sequence is not kept
    const bad = new TraceCollector({});
    bad.progress({ state: 'challenges', event: 'prompt', atMs: 0, prompt: 'watch_light', detail: { lightStartMs: 0, lightChipMs: 200, lightChips: '1x0' } });
    expect(bad.trace().light).toBeUndefined();
  });
});
