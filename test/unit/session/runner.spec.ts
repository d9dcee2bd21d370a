import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock, SYSTEM_CLOCK } from '../../../src/lib/clock.ts';
import { resultDecisionSchema } from '../../../src/carrier/protocol.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { DEFAULT_BUTTON_PINS, DEFAULT_LED_PINS } from '../../../src/panel/panel.ts';
import { SimButtons, SimLeds } from '../../../src/panel/sim-panel.ts';
import { FailureRateLimiter } from '../../../src/session/rate-limiter.ts';
import { seededRandom } from '../../../src/session/random.ts';
import { SessionRunner, type SessionRunnerOptions } from '../../../src/session/runner.ts';
import { SESSION_REASONS } from '../../../src/session/decision.ts';
import { CORRUPT_JPEG } from '../../fixtures/vision/generated.ts';
import { bombPng, otherFormat, svgPhoto } from '../../fixtures/vision/hostile-photos.ts';
import { World, allZero, referencePng, type WorldOptions } from './runner-world.ts';

const BASE = { match: { threshold: 0.5, continuityThreshold: 0.4 }, antispoof: { threshold: 0.5 } };
const SCRIPT = { challenges: { set: ['blink', 'turn_left', 'turn_right'], required: [], ordered: true, count: 3 } };

async function setup(w: WorldOptions = {}, extra: Partial<SessionRunnerOptions> = {}) {
  const world = new World(w);
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  const logger = createLogger({ level: 'debug', destination: sink });
  const leds = new SimLeds(Object.keys(DEFAULT_LED_PINS));
  const buttons = new SimButtons(Object.keys(DEFAULT_BUTTON_PINS), logger);
  await leds.start();
  await buttons.start();
  const runner = new SessionRunner({
    engine: world.engine, camera: world.camera, leds, buttons, logger, policyBase: BASE, timeSource: 'frames',
    random: seededRandom('runner-test'), onProgress: world.onProgress, wallClock: () => Date.UTC(2026, 0, 1), ...extra,
  });
  const request = async (policy: Record<string, unknown> = SCRIPT) => ({ sessionId: 's-1', nonce: 'nonce-0123456789abcdef', reference: await referencePng(), policy });
  return { world, leds, buttons, runner, lines, request };
}

/** LEDs switched on, in order, without repeats of the one just lit (the customer's view of the prompts). */
function litSequence(leds: SimLeds): string[] {
  const seq: string[] = [];
  for (const c of leds.history) if (c.on && seq.at(-1) !== c.led) seq.push(c.led);
  return seq;
}

describe('SessionRunner with a simulated customer and panel', () => {
  it('a cooperative customer matching the reference: match, prompts in script order, carrier-shaped result', async () => {
    const { world, leds, runner, request } = await setup();
    const d = await runner.run(await request(), new AbortController().signal);
    expect(resultDecisionSchema.parse(d)).toEqual(d);
    expect(d).toMatchObject({ decision: 'match', decidedBy: 'match', sessionId: 's-1', startedAt: '2026-01-01T00:00:00.000Z' });
    expect(d.challenges.map((c) => [c.type, c.passed])).toEqual([['blink', true], ['turn_left', true], ['turn_right', true]]);
    const prompts = world.progress.filter((e) => e.event === 'prompt').map((e) => e.prompt);
    expect(prompts.filter((p) => ['blink', 'turn_left', 'turn_right'].includes(p ?? ''))).toEqual(['blink', 'turn_left', 'turn_right']);
    expect(litSequence(leds)).toEqual(expect.arrayContaining(['busy', 'look', 'blink', 'left', 'right']));
    const lit = litSequence(leds);
    expect(lit.indexOf('busy')).toBeLessThan(lit.indexOf('look'));
    expect(lit.indexOf('blink')).toBeLessThan(lit.indexOf('left'));
    expect(lit.indexOf('left')).toBeLessThan(lit.indexOf('right'));
    expect(leds.lit()).toEqual([]);
  });

  it('zeroes every buffer it handed out or was handed: reference bytes, frames, RGB images, templates, landmarks, model inputs', async () => {
    const { world, runner, request } = await setup();
    const req = await request();
    const d = await runner.run(req, new AbortController().signal);
    expect(d.decision).toBe('match');
    expect(allZero(req.reference)).toBe(true);
    expect(world.frameBuffers.length).toBeGreaterThan(30);
    expect(world.frameBuffers.every(allZero)).toBe(true);
    expect(world.images.length).toBeGreaterThan(30);
    expect(world.images.every(allZero)).toBe(true);
    expect(world.templates.length).toBeGreaterThan(3);
    expect(world.templates.every((t) => allZero(t.feature))).toBe(true);
    expect(world.landmarks.length).toBeGreaterThan(30);
    expect(world.landmarks.every(allZero)).toBe(true);
    expect(world.wipes).toBe(1);
  });

  it('analyses the session\'s frames on one face track (not the reference photo), reset when the session ends', async () => {
    const { world, runner, request } = await setup();
    const d = await runner.run(await request(), new AbortController().signal);
    const [intake, ...frames] = world.tracked;
    // the (fake) engine follows the track's plan: 2 frames in 5 carry an anti-spoof score, only those are aggregated
    expect(d.decision).toBe('match');
    expect(d.scores.antispoofFrames).toBeGreaterThanOrEqual(8);
    expect(d.scores.antispoofFrames).toBeLessThanOrEqual(Math.ceil((frames.length * 2) / 5));
    expect(intake.track).toBeUndefined();
    const track = frames[0].track;
    expect(track).toBeDefined();
    expect(frames.length).toBeGreaterThan(10);
    expect(frames.every((f) => f.track === track && f.tsMs !== undefined)).toBe(true);
    expect(() => track?.fromLandmarks({ yaw: 0, pitch: 0, roll: 0 })).toThrow(/before any offset/); // offsets gone
    await runner.run(await request(), new AbortController().signal);
    const next = world.tracked.slice(frames.length + 2).map((f) => f.track);
    expect(next.length).toBeGreaterThan(10);
    expect(next.every((t) => t !== undefined && t !== track)).toBe(true); // a fresh track per session
  });

  it('runs fr_pose on every frame while a turn challenge is open (the turn detector\'s full-range yaw), the hybrid otherwise', async () => {
    const { world, runner, request } = await setup();
    expect((await runner.run(await request(), new AbortController().signal)).decision).toBe('match');
    const under = (prompt: string): string[] => world.tracked.filter((f) => f.prompt === prompt && f.pose).map((f) => f.pose as string);
    for (const turn of ['turn_left', 'turn_right']) {
      expect(under(turn).length).toBeGreaterThan(10);
      expect(new Set(under(turn))).toEqual(new Set(['model']));
    }
    expect(under('blink')).toContain('landmarks');
    expect(under('look_at_camera')).toContain('landmarks');
  });

  it('embeds only selected frames, not every analysed one', async () => {
    const { world, runner, request } = await setup();
    await runner.run(await request(), new AbortController().signal);
    const analysed = world.images.length - 1; // minus the reference photo
    expect(world.templates.length - 1).toBeLessThan(analysed / 3);
  });

  it('another person in front of the camera: no_match, and every buffer zeroed', async () => {
    const { world, runner, request } = await setup({ person: 'other' });
    const d = await runner.run(await request(), new AbortController().signal);
    expect(d).toMatchObject({ decision: 'no_match', decidedBy: 'match' });
    expect(world.templates.every((t) => allZero(t.feature))).toBe(true);
  });

  it('a reference photo with two faces: error by reference before any customer prompt', async () => {
    const { world, runner, request } = await setup({ referenceFaces: 2 });
    const req = await request();
    const d = await runner.run(req, new AbortController().signal);
    expect(d).toMatchObject({ decision: 'error', decidedBy: 'reference', reason: 'reference_unusable' });
    expect(world.progress.filter((e) => e.event === 'prompt').map((e) => e.prompt)).toEqual(['please_wait']);
    expect(world.frameBuffers).toHaveLength(0);
    expect(allZero(req.reference)).toBe(true);
  });

  it('a reference that is not an image: unsupported_image, bytes zeroed', async () => {
    const { runner } = await setup();
    const reference = new TextEncoder().encode('definitely not a jpeg');
    const d = await runner.run({ sessionId: 's-2', nonce: 'nonce-0123456789abcdef', reference }, new AbortController().signal);
    expect(d).toMatchObject({ decision: 'error', decidedBy: 'reference', reason: 'unsupported_image' });
    expect(allZero(reference)).toBe(true);
  });

  it('a refused reference file: its own signed reason, before any frame, the decoder\'s words in the log only', async () => {
    const cases: Array<[string, () => Promise<Uint8Array>, 'jpeg' | 'png' | undefined, string]> = [
      ['PNG 40000x1000', async () => bombPng(40_000, 1000), 'png', 'reference_too_large'],
      ['GIF declared jpeg', async () => otherFormat('gif'), 'jpeg', 'unsupported_image'],
      ['SVG declared png', async () => svgPhoto(6000, 6000), 'png', 'unsupported_image'],
      ['PNG declared jpeg', referencePng, 'jpeg', 'reference_format_mismatch'],
      ['corrupt JPEG', async () => new Uint8Array(CORRUPT_JPEG), 'jpeg', 'reference_unreadable'],
    ];
    for (const [name, make, referenceFormat, reason] of cases) {
      const { world, runner, lines } = await setup();
      const reference = await make();
      const d = await runner.run({ sessionId: 's-3', nonce: 'nonce-0123456789abcdef', reference, referenceFormat }, new AbortController().signal);
      expect(d, name).toMatchObject({ decision: 'error', decidedBy: 'reference', reason });
      expect(SESSION_REASONS).toContain(d.reason);
      expect(world.frameBuffers, name).toHaveLength(0);
      expect(world.images, name).toHaveLength(0); // nothing reached the engine
      expect(allZero(reference), name).toBe(true);
      const refused = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'reference photo refused');
      expect(refused, name).toMatchObject({ reason, message: expect.any(String) });
      expect(String(refused?.message).length).toBeLessThanOrEqual(200);
    }
  });

  it('an exception in the session: signed reason internal_error, its text in the log only', async () => {
    const boom = new RangeError('Invalid typed array length: 225000180000000');
    const { runner, request, lines } = await setup({ before: { 5: () => { throw boom; } } });
    const d = await runner.run(await request(), new AbortController().signal);
    expect(d).toMatchObject({ decision: 'error', decidedBy: 'agent', reason: 'internal_error' });
    expect(JSON.stringify(d)).not.toContain('225000180000000');
    expect(lines.some((l) => l.includes('session failed') && l.includes('225000180000000'))).toBe(true);
  });

  it('a customer who never reacts: liveness_failed on the first challenge deadline', async () => {
    const { runner, request } = await setup({ passive: true });
    const d = await runner.run(await request(), new AbortController().signal);
    expect(d).toMatchObject({ decision: 'liveness_failed', decidedBy: 'challenge:blink' });
    expect(d.challenges).toEqual([{ type: 'blink', passed: false, ms: expect.any(Number) }]);
    expect(d.challenges[0].ms).toBeGreaterThanOrEqual(7000);
  });

  it('the cancel button at any point: cancelled by customer, counted as a failed attempt', async () => {
    const limiter = new FailureRateLimiter(new ManualClock(0), { maxFailures: 1, windowMs: 60_000 });
    let press = (): void => {};
    const s = await setup({ before: { 40: () => press() } }, { limiter });
    press = () => s.buttons.click('cancel');
    const d = await s.runner.run(await s.request(), new AbortController().signal);
    expect(d).toMatchObject({ decision: 'cancelled', decidedBy: 'customer' });
    expect(s.world.frameBuffers.length).toBeLessThanOrEqual(42);
    expect(s.world.frameBuffers.every(allZero)).toBe(true);
    // the failure limit is reached: the next session is refused before it starts
    const next = await s.runner.run(await s.request(), new AbortController().signal);
    expect(next).toMatchObject({ decision: 'rejected', decidedBy: 'rate_limiter', reason: 'rate_limited' });
    expect(resultDecisionSchema.safeParse(next).success).toBe(true);
  });

  it('the staff-assist button flags the prompts and the session goes on', async () => {
    let press = (): void => {};
    const s = await setup({ before: { 20: () => press() } });
    press = () => s.buttons.click('assist');
    const d = await s.runner.run(await s.request(), new AbortController().signal);
    expect(d.decision).toBe('match');
    expect(s.world.progress.some((e) => e.event === 'assist_requested')).toBe(true);
    expect(s.world.progress.some((e) => e.event === 'prompt' && e.detail?.assist === true)).toBe(true);
  });

  it('an agent abort: cancelled by agent, not a failed attempt', async () => {
    const limiter = new FailureRateLimiter(new ManualClock(0), { maxFailures: 1, windowMs: 60_000 });
    const ac = new AbortController();
    const s = await setup({ before: { 30: () => ac.abort() } }, { limiter });
    const d = await s.runner.run(await s.request(), ac.signal);
    expect(d).toMatchObject({ decision: 'cancelled', decidedBy: 'agent' });
    expect(limiter.check().allowed).toBe(true);
  });

  it('deadlines fire on clock ticks when the camera stops delivering frames (live time source)', async () => {
    const s = await setup({ hangAfter: 5 }, { timeSource: 'clock', clock: SYSTEM_CLOCK, tickMs: 10 });
    const d = await s.runner.run(await s.request({ ...SCRIPT, quality: { timeoutMs: 300 } }), new AbortController().signal);
    expect(d.decision).toBe('quality_failed');
    expect(d.decidedBy).toBe('quality_gate');
  });

  it('a replay at recorded pace on the live clock: recorded times are rebased so the prompted blink counts', async () => {
    const clock = { ...SYSTEM_CLOCK, now: () => performance.now() + 1_000_000 };
    const s = await setup({ paceMs: 33, startTsMs: 5000 }, { timeSource: 'clock', clock, tickMs: 20 });
    const policy = { challenges: { set: ['blink'], required: [], ordered: true, count: 1, pauseMinMs: 0, pauseMaxMs: 50 }, quality: { holdMs: 200 } };
    const d = await s.runner.run(await s.request(policy), new AbortController().signal);
    expect(d).toMatchObject({ decision: 'match', challenges: [{ type: 'blink', passed: true }] });
  });

  it('an invalid carrier policy is an error decision, not an exception', async () => {
    const { runner, request } = await setup();
    const d = await runner.run(await request({ turn: { enterDeg: 500 } }), new AbortController().signal);
    expect(d).toMatchObject({ decision: 'error', decidedBy: 'request', reason: 'invalid_policy' });
  });

  it('logs the decision without biometrics', async () => {
    const { runner, request, lines } = await setup();
    await runner.run(await request(), new AbortController().signal);
    const logs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.some((l) => l.msg === 'session decided' && l.decision === 'match')).toBe(true);
    for (const l of logs) for (const k of ['embedding', 'template', 'reference', 'image', 'frame']) expect(l).not.toHaveProperty(k);
  });

  it('verdict LEDs on request: pass for match, fail otherwise', async () => {
    const { runner, leds, request } = await setup();
    const d = await runner.run(await request(), new AbortController().signal);
    runner.showVerdict(d);
    expect(leds.lit()).toEqual(['pass']);
    runner.showVerdict({ ...d, decision: 'no_match' });
    expect(leds.lit()).toEqual(['fail']);
  });
});
