import { SYSTEM_CLOCK, type Clock } from '../lib/clock.ts';
import type { Frame, FrameSource } from '../camera/frame-source.ts';
import { i420ToRgb } from '../camera/i420.ts';
import type { ResultDecision } from '../carrier/protocol.ts';
import type { Logger } from '../lib/logger.ts';
import { isCanceled } from '../lib/errors.ts';
import type { Buttons, Leds } from '../panel/panel.ts';
import { PatternPlayer } from '../panel/pattern-player.ts';
import type { FaceAnalysis, FaceEngine } from '../vision/engine.ts';
import type { FaceTrackOptions } from '../vision/face-track.ts';
import type { FaceTracker } from '../vision/face-tracker.ts';
import type { RgbImage } from '../vision/image.ts';
import { wipeTemplate, type FaceTemplate } from '../vision/matcher.ts';
import type { PhotoFormat } from '../vision/photo-header.ts';
import { countsAsFailure } from './decision.ts';
import { deploymentPolicyBase } from './deployment-policy.ts';
import { EmbedSelector } from './embed-selector.ts';
import { resolvePolicy, type PolicyInput, type SessionPolicy } from './policy.ts';
import { VERDICT_PRIORITY, panelPattern } from './prompt-pattern.ts';
import { VERDICT_PATTERNS } from './prompts.ts';
import { assessQuality } from './quality.ts';
import { cryptoRandom, type RandomSource } from './random.ts';
import type { RateDecision } from './rate-limiter.ts';
import { referenceTemplate } from './reference-intake.ts';
import { shellDecision, toResultDecision } from './result-decision.ts';
import { RegistrationSession, type SessionOutput } from './session.ts';
import type { FrameSignals } from './signals.ts';
import { frameSignals, withEmbedding } from './vision-signals.ts';

/**
 * The session shell (issue #5): connects camera, face engine, the pure session core and the panel for one
 * registration session at a time.
 *
 * CAMERA: the camera runs CONTINUOUSLY; its owner (the composition root, or `regterm replay`) starts it before the
 * first session and stops it at shutdown — a FrameSource cannot be restarted, and a warm camera has settled exposure
 * when the customer arrives. The runner only reads `camera.frames(signal)` while a session runs. The newest-frame
 * mailbox drops frames while inference is slower than the camera, so frames are always analysed newest-first; a frame
 * captured before the session started (the one left in the mailbox) is wiped unread.
 * TIME: `timeSource: 'clock'` (default) = the injected monotonic clock, ticks every `tickMs` so deadlines fire when
 * frames stop. `timeSource: 'frames'` (replay at 'fast' pace) = the session clock is the recorded time of the last
 * frame read: the replay is deterministic and starts at the session's start (a lockstep replay source produces its
 * first frame only when the session reads it); when the recording ends, time advances in virtual ticks until a
 * deadline decides. A replay source on the 'clock' time source (recorded pace) has its recorded times rebased onto
 * the clock at the session's first frame, so frame times and deadlines share one timeline.
 *
 * INVARIANTS:
 * - `run` always resolves with a `resultDecisionSchema`-shaped decision; it never rejects.
 * - Biometric hygiene: the reference bytes, every frame's data, the RGB buffer, every template (reference and frame
 *   embeddings, owned by the session core, which wipes them), the landmarks and the engine's model input buffers
 *   (the last crops, `engine.wipeBuffers()`) are all zeros when `run` resolves, whatever the outcome.
 *   Nothing biometric is logged: logs carry state transitions, decisions and counts only.
 * - Rate limiting: `limiter.check()` before start, `recordFailure()` when the decision counts as a failure.
 */
export interface SessionRequestInput {
  sessionId: string;
  nonce: string;
  /** JPEG/PNG bytes; the runner zeroes them as soon as the template is made */
  reference: Uint8Array;
  /** the format the carrier's request declared; bytes of the other format are refused (none: the bytes decide) */
  referenceFormat?: PhotoFormat;
  /** the carrier's partial policy (validated by resolvePolicy) */
  policy?: Record<string, unknown>;
}

export interface ProgressEvent {
  state: string;
  event: string;
  /** ms since the session started, on the session clock */
  atMs: number;
  prompt?: string;
  detail?: Record<string, string | number | boolean>;
}

/**
 * One analysed frame, for the replay report (a debug artefact) and the session trace (numbers only): `image` is valid
 * during the call only.
 */
export interface AnalysedFrame {
  tsMs: number;
  /** the frame's time on the session clock (ms since the session started), as ProgressEvent.atMs */
  atMs?: number;
  image: RgbImage;
  faces: readonly FaceAnalysis[];
  signals: FrameSignals;
}

/** What the runner uses of the FaceEngine (the engine itself in production; a scripted world in unit tests). */
export interface RunnerEngine extends Pick<FaceEngine, 'analyzeFrame' | 'embed' | 'wipeBuffers'> {
  tracker(opts: FaceTrackOptions): Pick<FaceTracker, 'next' | 'reset'>;
  compare(a: FaceTemplate, b: FaceTemplate): { similarity: number };
  readonly fusion: { readonly threshold: number };
  readonly antispoofThreshold: number | undefined;
}

export interface SessionRunnerOptions {
  engine: RunnerEngine;
  camera: FrameSource;
  leds: Leds;
  buttons: Buttons;
  logger: Logger;
  /** monotonic ms + timers (performance.now() by default), the camera's clock */
  clock?: Clock;
  random?: RandomSource;
  limiter?: RateLimiter;
  /** deployment base policy under the carrier's; default `deploymentPolicyBase(engine)` */
  policyBase?: PolicyInput;
  onProgress?: (sessionId: string, event: ProgressEvent) => void;
  timeSource?: 'clock' | 'frames';
  /** wall clock for the ISO times in the result (default Date.now) */
  wallClock?: () => number;
  tickMs?: number;
  onFrame?: (frame: AnalysedFrame) => void;
}

/** What the runner needs of a rate limiter (FailureRateLimiter implements it). */
export interface RateLimiter {
  check(): RateDecision;
  recordFailure(): void;
}

export class SessionRunner {
  private readonly clock: Clock;
  private readonly player: PatternPlayer;

  constructor(private readonly o: SessionRunnerOptions) {
    this.clock = o.clock ?? SYSTEM_CLOCK;
    this.player = new PatternPlayer(o.leds, this.clock, (e: unknown) => o.logger.warn({ err: e }, 'LED pattern stopped'));
  }

  /**
   * Always resolves with a decision (timeouts, cancel, errors included); never rejects for session-level failures.
   * One run at a time: the session's owner (SessionService, src/compose/session-service.ts) is the one busy guard.
   */
  async run(request: SessionRequestInput, signal: AbortSignal): Promise<ResultDecision> {
    const wall = (this.o.wallClock ?? Date.now)();
    try {
      return await this.runOnce(request, signal, wall);
    } catch (e: unknown) {
      this.o.logger.error({ err: e, sessionId: request.sessionId }, 'session shell failed');
      return shellDecision(request, 'error', 'agent', 'internal_error', wall);
    } finally {
      request.reference.fill(0);
    }
  }

  /** Verdict LEDs (pass/fail): call it AFTER the result is durably in the outbox (DESIGN §6). */
  showVerdict(decision: ResultDecision): void {
    const pattern = decision.decision === 'match' ? VERDICT_PATTERNS.pass : VERDICT_PATTERNS.fail;
    this.player.show('verdict', panelPattern(pattern, this.o.leds.names, VERDICT_PRIORITY));
  }

  private async runOnce(request: SessionRequestInput, signal: AbortSignal, wall: number): Promise<ResultDecision> {
    const log = this.o.logger.child({ component: 'session', sessionId: request.sessionId });
    const gate = this.o.limiter?.check();
    if (gate && !gate.allowed) {
      log.warn({ retryAfterMs: gate.retryAfterMs }, 'session refused: rate limited');
      return shellDecision(request, 'rejected', 'rate_limiter', 'rate_limited', wall, { timings: { retryAfterMs: Math.max(0, Math.round(gate.retryAfterMs)) } });
    }
    let policy: SessionPolicy;
    try {
      policy = resolvePolicy(request.policy ?? {}, this.o.policyBase ?? deploymentPolicyBase(this.o.engine));
    } catch (e: unknown) {
      log.warn({ err: e }, 'session refused: invalid policy');
      return shellDecision(request, 'error', 'request', 'invalid_policy', wall);
    }
    const run = new ActiveRun(this.o, this.clock, this.player, policy, request, signal, log);
    const result = await run.execute();
    const decision = toResultDecision(result, wall);
    if (countsAsFailure(result)) this.o.limiter?.recordFailure();
    log.info({ decision: result.decision, decidedBy: result.decidedBy, reason: result.reason, ms: Math.round(result.timings.total) }, 'session decided');
    return decision;
  }
}

/** One session's wiring; lives for one `run`. */
class ActiveRun {
  private readonly ac = new AbortController();
  private readonly session: RegistrationSession;
  private readonly selector: EmbedSelector;
  /**
   * the session's frames are one stream: hybrid head pose (fr_pose on every 5th frame; on every frame while a turn
   * challenge is open), anti-spoof on alternate frames, and the iris lid cue for the blink detector (face-tracker.ts);
   * reset when the run ends
   */
  private readonly tracker: Pick<FaceTracker, 'next' | 'reset'>;
  private readonly frameMode: boolean;
  private virtualMs = 0;
  /** clock mode with a replay source: recorded time → clock time */
  private tsOffset = 0;
  private startMs = 0;
  private rgb: Uint8Array | undefined;
  private tickTimer: unknown;

  constructor(
    private readonly o: SessionRunnerOptions,
    private readonly clock: Clock,
    private readonly player: PatternPlayer,
    private readonly policy: SessionPolicy,
    private readonly request: SessionRequestInput,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {
    this.frameMode = o.timeSource === 'frames';
    this.tracker = o.engine.tracker({ lidMeasureBelow: policy.blink.closedBelow });
    const sessionClock = { now: (): number => (this.frameMode ? this.virtualMs : this.clock.now()) };
    this.session = new RegistrationSession({
      sessionId: request.sessionId, nonce: request.nonce, policy, clock: sessionClock, random: o.random ?? cryptoRandom,
      similarity: (a: FaceTemplate, b: FaceTemplate) => o.engine.compare(a, b).similarity,
    });
    this.selector = new EmbedSelector();
  }

  async execute(): Promise<NonNullable<RegistrationSession['result']>> {
    const onAbort = (): void => this.feed({ type: 'cancel' });
    const offButtons = this.o.buttons.onEdge((e) => {
      if (e.pressed && (e.button === 'cancel' || e.button === 'assist')) this.feed({ type: 'button', button: e.button });
    });
    this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.startMs = this.clock.now();
      this.feed({ type: 'start' });
      if (this.signal.aborted) this.feed({ type: 'cancel' });
      if (!this.frameMode) this.scheduleTick();
      await this.intake();
      await this.frameLoop();
      if (this.frameMode) this.virtualTicks();
      else if (!this.session.result) {
        if (this.signal.aborted) this.feed({ type: 'cancel' });
        else this.feed({ type: 'error', reason: 'camera_stopped' });
      }
    } catch (e: unknown) {
      if (!isCanceled(e)) {
        this.log.error({ err: e }, 'session failed');
        this.feed({ type: 'error', reason: 'internal_error' });
      } else this.feed({ type: 'cancel' });
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      offButtons();
      this.clock.clearTimeout(this.tickTimer);
      this.ac.abort();
      this.player.clear('session');
      this.rgb?.fill(0);
      this.tracker.reset();
      this.o.engine.wipeBuffers();
    }
    const result = this.session.result;
    if (!result) throw new Error('session ended without a decision');
    return result;
  }

  private async intake(): Promise<void> {
    if (this.session.state !== 'reference') return;
    const ref = await referenceTemplate(this.o.engine, this.request.reference, this.ac.signal, this.request.referenceFormat);
    if (ref.ok) {
      this.feed({ type: 'reference', template: ref.template });
      return;
    }
    // the decoder's words about the file (never its pixels), bounded: the photo came from outside
    const message = ref.message === undefined ? {} : { message: ref.message.slice(0, 200) };
    this.log.warn({ reason: ref.reason, detail: ref.detail, ...message }, 'reference photo refused');
    this.feed({ type: 'reference_unusable', reason: ref.reason, detail: ref.detail });
  }

  private async frameLoop(): Promise<void> {
    if (this.session.result) return;
    let first = true;
    for await (const frame of this.o.camera.frames(this.ac.signal)) {
      try {
        if (this.session.result) return;
        // the mailbox holds at most one frame from before the session: the first one read may be stale
        const stale = first && !this.frameMode && this.o.camera.kind !== 'replay' && frame.tsMs < this.startMs;
        // a replay at recorded pace on the live clock: recorded times are rebased onto the clock at the first frame
        if (first && !this.frameMode && this.o.camera.kind === 'replay') this.tsOffset = this.clock.now() - frame.tsMs;
        first = false;
        if (!stale) await this.onFrame(frame);
      } finally {
        frame.data.fill(0);
      }
      if (this.session.result) return;
    }
  }

  private async onFrame(frame: Frame): Promise<void> {
    const { width, height } = frame;
    if (this.rgb?.length !== width * height * 3) {
      this.rgb?.fill(0);
      this.rgb = new Uint8Array(width * height * 3);
    }
    const image: RgbImage = { width, height, data: i420ToRgb(frame, this.rgb) };
    frame.data.fill(0);
    let embedding: FaceTemplate | undefined;
    try {
      const tsMs = frame.tsMs + this.tsOffset;
      const faces = await this.tracker.next(image, { maxFaces: 2, signal: this.ac.signal, tsMs, poseEveryFrame: this.session.turnYawNeeded });
      if (this.frameMode) this.virtualMs = Math.max(this.virtualMs, tsMs);
      const plain = frameSignals(faces, { tsMs, width, height, seq: frame.seq });
      const quality = assessQuality(plain, this.policy.quality);
      if (faces[0] && this.selector.want(this.session.state, plain, quality)) embedding = await this.o.engine.embed(image, faces[0]);
      const signals = embedding ? withEmbedding(plain, embedding) : plain;
      this.o.onFrame?.({ tsMs, atMs: tsMs - (this.frameMode ? 0 : this.startMs), image, faces, signals });
      embedding = undefined; // the session owns it from here
      this.feed({ type: 'frame', frame: signals, quality });
      for (const f of faces) f.landmarks68.fill(0);
    } finally {
      if (embedding) wipeTemplate(embedding);
      image.data.fill(0);
    }
  }

  /** Recording over (frames mode): time goes on in 100 ms steps until a deadline decides. */
  private virtualTicks(): void {
    const step = this.o.tickMs ?? 100;
    const limit = this.virtualMs + this.policy.sessionTimeoutMs + step;
    while (!this.session.result && this.virtualMs <= limit) {
      this.virtualMs += step;
      this.feed({ type: 'tick' });
    }
  }

  private scheduleTick(): void {
    this.tickTimer = this.clock.setTimeout(() => {
      this.feed({ type: 'tick' });
      if (!this.session.result) this.scheduleTick();
    }, this.o.tickMs ?? 100);
  }

  /** Every input goes through here: the session core is synchronous, so inputs never interleave. */
  private feed(input: Parameters<RegistrationSession['handle']>[0]): void {
    this.apply(this.session.handle(input));
  }

  private apply(outputs: SessionOutput[]): void {
    const since = (t: number): number => Math.round(t - (this.frameMode ? 0 : this.startMs));
    for (const out of outputs) {
      if (out.type === 'prompt') {
        this.player.show('session', panelPattern(out.pattern, this.o.leds.names));
        // the light challenge's LED sequence goes with its prompt: staff screens and the session trace show what was flashed
        const light = out.light && { lightStartMs: since(out.light.startMs), lightChipMs: out.light.chipMs, lightChips: out.light.chips.join('') };
        const detail = { ...(out.assist ? { assist: true } : {}), ...light };
        this.progress({ state: this.session.state, event: 'prompt', atMs: since(out.atMs), prompt: out.prompt,
          ...(Object.keys(detail).length > 0 ? { detail } : {}) });
      } else if (out.type === 'progress') {
        this.progress({ state: out.state, event: out.event, atMs: since(out.atMs), ...(out.detail ? { detail: out.detail } : {}) });
      } else {
        this.ac.abort();
      }
    }
  }

  private progress(e: ProgressEvent): void {
    try {
      this.o.onProgress?.(this.request.sessionId, e);
    } catch (err: unknown) {
      this.log.warn({ err }, 'progress listener failed');
    }
  }
}
