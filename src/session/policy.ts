import { z } from 'zod';

/**
 * Session policy: every threshold and deadline the liveness logic uses, with its default and why. The carrier may
 * send a partial policy in the session request; `resolvePolicy` fills the rest from these defaults and rejects
 * out-of-range values (every error at once, zod). Times are milliseconds on the session clock.
 */
export const CHALLENGE_TYPES = ['blink', 'turn_left', 'turn_right', 'light'] as const;
export type ChallengeType = (typeof CHALLENGE_TYPES)[number];

const ms = z.number().int().nonnegative();
const unit = z.number().min(0).max(1);
const deg = z.number().min(0).max(90);

export const policySchema = z.strictObject({
  /** true when the camera pipeline mirrors the image (selfie view); flips left/right (signals.ts) */
  mirrored: z.boolean().default(false),
  challenges: z.strictObject({
    /** challenge types the session may draw from */
    set: z.array(z.enum(CHALLENGE_TYPES)).min(1).default(['blink', 'turn_left', 'turn_right', 'light']),
    /** always included (the light challenge is the one a replayed video cannot answer) */
    required: z.array(z.enum(CHALLENGE_TYPES)).default(['light']),
    /**
     * a forced script: every type of `set`, in the given order, no shuffle and no `count` (`regterm replay
     * --challenges`, HIL tests). Never for live customers: a predictable order is what the shuffle defeats.
     */
    ordered: z.boolean().default(false),
    /**
     * how many challenges per session: 4 = light + blink + both turns, in CSPRNG order. Each motion alone is
     * answered by chance by a recording that blinks or moves a lot; a session needs all of them, so asking all three
     * motions rather than two cuts a recording's chance several-fold, for ~1.5 s more of a cooperative customer's
     * time (docs/antispoof.md "Replay attacks")
     */
    count: z.number().int().min(1).max(8).default(4),
    /** per motion challenge; blinks and turns take 1-2 s when prompted, 7 s leaves room for a slow customer */
    timeoutMs: ms.default(7000),
    /**
     * a blink or turn that starts sooner than this after its prompt is not an answer to it (human visual reaction
     * is >= ~150-200 ms); together with the random pauses this makes a replayed clip's incidental motion count less
     */
    minReactionMs: ms.default(150),
    /** random pause before each prompt, so a pre-recorded answer cannot be timed */
    pauseMinMs: ms.default(300),
    pauseMaxMs: ms.default(1200),
  }).prefault({}),
  blink: z.strictObject({
    /** both eyes count as closed when the MORE open eye is below this */
    closedBelow: unit.default(0.3),
    /** eyes count as open above this; the gap to closedBelow is the hysteresis that rejects partial blinks/noise */
    openAbove: unit.default(0.6),
    /**
     * a closure is not a blink when BOTH eyes' measured lid openings (FaceSignals leftLidOpen/rightLidOpen, the iris
     * model, relative to each eye's own open level) stay at or above this on every frame the eye-state model calls
     * them closed: half-lidded glances and downcast or rolled-up eyes read as closed by the eye-state model. One lid
     * measured below it confirms the pair (a blink closes both lids; a hooded eye's lid can read open while shut).
     * Set in the gap between real blinks and half-lidded glances in the annotated clips (docs/blinks.md). Also the
     * level at which a lid counts an eye open for the bilateral test.
     */
    lidOpenAbove: z.number().positive().default(0.7),
    /**
     * eyes must stay open this long before a blink and after it (3 frames at 30 fps): an eye-state model that flips
     * frame to frame in a drowsy flutter gives one long closure instead of many blinks
     */
    minOpenMs: ms.default(60),
    /**
     * each eye must have been open within this long before the closure began: both lids start a blink together
     * (the closing phase takes ~100 ms, 3-4 frames at 25-30 fps), while a closure that starts with one eye already
     * shut for longer is a wink or squint ending
     */
    bilateralMs: ms.default(150),
    /** a closure longer than this is eyes_closed, not a blink (human blinks are 100-400 ms) */
    maxDurationMs: ms.default(700),
    /** a hole in the timestamps longer than this aborts a blink in progress: we did not see it happen */
    maxGapMs: ms.default(250),
    /**
     * the blink CHALLENGE's answer must START (both eyes closing) within this long of the prompt: a customer blinks
     * after a choice reaction time, while a recording blinks at its own rate at any time in the challenge's timeout,
     * so this cuts the chance that a replayed recording answers in proportion (docs/blinks.md)
     */
    startWithinMs: ms.default(1500),
  }).prefault({}),
  turn: z.strictObject({
    /**
     * a turn counts once |yaw| measured FROM THE CUSTOMER'S OWN FRONTAL (the median yaw of the quality gate's hold,
     * detectors/turn.ts) reaches this: out of the gate's +-15 deg frontal band plus 5 deg of pose error
     */
    enterDeg: deg.default(20),
    /** ...and ends when it falls below this: back in the frontal band less the margin (hysteresis; also 'frontal' for the start of a turn) */
    exitDeg: deg.default(12),
    /** yaw must stay past exitDeg for this long after reaching enterDeg (rejects single-frame pose glitches) */
    holdMs: ms.default(150),
    maxGapMs: ms.default(400),
    /**
     * a customer's frontal (median yaw of the gate's hold) further from the camera axis than this is a head held
     * turned, not a personal bias: turns are then measured from 0. Wider than the personal biases of the pose
     * reading (docs/session.md).
     */
    maxFrontalBiasDeg: deg.default(8),
    /**
     * The turn CHALLENGE's rule (challenges.ts). A prompt gives what a clip scan lacks: the direction, the moment,
     * and the face just before it. So a prompted turn is measured in the asked direction from the yaw the customer
     * held before the prompt, and needs less rotation than the clip scan's enterDeg; thresholds from the measured
     * distributions of prompted turns and of random prompts on talking heads (docs/turns.md).
     */
    prompted: z.strictObject({
      /** the baseline is the median yaw of the frames this long before the prompt (the pause the session shows) */
      baselineMs: ms.default(500),
      /** fewer faces than this before the prompt (or a median off the gate's frontal by more than maxFrontalBiasDeg): the gate's frontal instead */
      minBaselineFrames: z.number().int().min(1).default(3),
      /**
       * rotation from the baseline in the asked direction that answers the prompt. fr_pose reads yaw in ~3 deg
       * steps: 8 = three steps from the baseline, which the answered turns pass and random
       * prompts on talking heads, within startWithinMs, rarely do (docs/turns.md)
       */
      enterDeg: deg.default(8),
      /** within this of the baseline is frontal (one step plus jitter): a turn starts past it and ends back inside */
      exitDeg: deg.default(5),
      /** yaw must stay at or past enterDeg this long (a talking head's flick is shorter) */
      holdMs: ms.default(200),
      /**
       * the turn must START (leave exitDeg) within this long of the prompt: a customer answering a prompt starts
       * after a choice reaction time (~0.4-1 s), while a head that drifts on its own starts at any time in the
       * challenge's timeout, so this cuts incidental passes in proportion (docs/turns.md)
       */
      startWithinMs: ms.default(1500),
    }).prefault({}),
  }).prefault({}),
  light: z.strictObject({
    /**
     * nonce-derived data bits, Manchester-coded into 2x chips (balanced on/off, one transition per bit). A face
     * following some OTHER sequence agrees on m of n bits and correlates (2m - n) / n: with 12 bits and
     * minCorrelation 0.6 it needs >= 10 of 12 bits, chance 79/4096 = 1.9% per attempt (before the lag search).
     */
    dataBits: z.number().int().min(4).max(32).default(12),
    /** one LED on/off chip; 200 ms spans 6 frames at 30 fps and 3 at 15 fps; 24 chips = 4.8 s */
    chipMs: ms.min(50).default(200),
    /** LEDs start this long after the prompt (the shell needs time to schedule them) */
    leadMs: ms.default(500),
    /** camera + LED latency searched for the best alignment: 0..maxLagMs */
    maxLagMs: ms.default(600),
    lagStepMs: ms.min(1).default(20),
    /** Pearson correlation of detrended face luminance with the chips; noise alone stays below ~0.35 */
    minCorrelation: z.number().min(0).max(1).default(0.6),
    /** fraction of chips that must have at least one frame (dropped frames) */
    minCoverage: unit.default(0.7),
    /** minimum mean luminance difference LED on vs off (0..255): rejects correlation on pure noise */
    minDeltaLuma: z.number().min(0).default(1.5),
  }).prefault({}),
  quality: z.strictObject({
    /** face box width / frame width; 0.2 of 640 px = 128 px, enough for a 112 px aligned crop */
    minFaceWidthFrac: unit.default(0.2),
    maxFaceWidthFrac: unit.default(0.75),
    /** face centre distance from frame centre, as a fraction of frame size, per axis */
    maxCenterOffsetFrac: unit.default(0.2),
    maxYawDeg: deg.default(15),
    maxPitchDeg: deg.default(15),
    maxRollDeg: deg.default(15),
    /** vision's Laplacian variance (signals.ts FaceQuality); 100 rejects heavy blur, sharp faces measure >= 320 */
    minSharpness: z.number().min(0).default(100),
    minLuma: z.number().min(0).max(255).default(60),
    maxLuma: z.number().min(0).max(255).default(200),
    minEyeOpen: unit.default(0.5),
    /** the gate passes after this long of continuously good frames */
    holdMs: ms.default(500),
    /** a timestamp hole longer than this restarts the hold (we did not see those frames) */
    maxGapMs: ms.default(250),
    /** quality_failed (or no_face) when the gate has not passed by then */
    timeoutMs: ms.default(15000),
  }).prefault({}),
  antispoof: z.strictObject({
    /**
     * trimmed mean of per-frame scores must reach this. Deployments take the manifest's `thresholds.antispoof`, chosen
     * on session-level aggregates from the terminal's camera path (genuine clips' 5 s windows vs print sequences held
     * up to the camera), not on per-frame scores of tight face crops: a compressed, upscaled genuine clip reads as low
     * per frame as prints do (docs/antispoof.md)
     */
    threshold: unit.default(0.5),
    /** at least this many quality-passing frames: one frame is never enough evidence */
    minFrames: z.number().int().min(1).default(8),
    /** fraction dropped at EACH end before averaging (robust to a few outlier frames) */
    trimFraction: z.number().min(0).max(0.45).default(0.2),
  }).prefault({}),
  match: z.strictObject({
    /**
     * similarity to the reference template, on the scale of the session's `similarity` function: 0.45 suits plain
     * cosine (the default `meanCosine`); with the engine's fusion pass the manifest's calibrated
     * `thresholds.match.value` (z-units) as a deployment base (`resolvePolicy(carrier, base)`)
     */
    threshold: z.number().finite().default(0.45),
    /** best frames (by quality) averaged into the probe embedding */
    topK: z.number().int().min(1).max(16).default(3),
    /**
     * frames with embeddings must be at least this similar to the first good frame (same person throughout); same
     * scale as `threshold`, set below it because turned frames score lower against a frontal anchor
     */
    continuityThreshold: z.number().finite().default(0.4),
    /** after the challenges, how long we wait for enough embedded good frames */
    timeoutMs: ms.default(5000),
  }).prefault({}),
  presence: z.strictObject({
    /** no face for this long after the gate passed ends the session as no_face */
    faceLostMs: ms.default(1500),
    /** a second face for this long fails continuity (someone else stepping in) */
    multiFaceMs: ms.default(500),
  }).prefault({}),
  /** hard cap on the whole session, reference to decision */
  sessionTimeoutMs: ms.default(60000),
});

export type SessionPolicy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/**
 * For a recording played to the session (`regterm replay`, `regterm demo`): it does not react to the prompts, so its
 * blink or turn may start any time before the challenge's deadline, not only within a customer's reaction window
 * (`blink.startWithinMs`, `turn.prompted.startWithinMs`). Never for live customers, nor for `eval replay-attack`,
 * which measures what a recording gets from the live policy.
 */
export const RECORDING_ANSWER_WINDOWS = {
  blink: { startWithinMs: 7000 },
  turn: { prompted: { startWithinMs: 7000 } },
} as const satisfies PolicyInput;

/**
 * The effective policy: schema defaults, overridden by the deployment `base` (e.g. thresholds calibrated in the model
 * manifest), overridden by `input` (the carrier's request). Unknown keys and out-of-range values are rejected (throws
 * a zod error listing every problem); so are inconsistent pairs.
 */
export function resolvePolicy(input: PolicyInput = {}, base: PolicyInput = {}): SessionPolicy {
  const policy = policySchema.parse(deepMerge(base, input));
  if (policy.blink.closedBelow >= policy.blink.openAbove) throw new RangeError('blink.closedBelow must be < openAbove');
  if (policy.turn.exitDeg >= policy.turn.enterDeg) throw new RangeError('turn.exitDeg must be < enterDeg');
  if (policy.turn.prompted.exitDeg >= policy.turn.prompted.enterDeg) throw new RangeError('turn.prompted.exitDeg must be < enterDeg');
  if (policy.challenges.pauseMinMs > policy.challenges.pauseMaxMs) throw new RangeError('pauseMinMs > pauseMaxMs');
  for (const t of policy.challenges.required) {
    if (!policy.challenges.set.includes(t)) throw new RangeError(`required challenge ${t} is not in challenges.set`);
  }
  return policy;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` wins; nested objects merge; arrays and scalars replace. */
function deepMerge(under: Json, over: Json): Json {
  const out: Json = { ...under };
  for (const [k, v] of Object.entries(over)) {
    const u = out[k];
    out[k] = isObject(u) && isObject(v) ? deepMerge(u, v) : v;
  }
  return out;
}
