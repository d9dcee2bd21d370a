/**
 * A simulated customer in front of a simulated terminal, for the session state-machine tests. It watches the prompts
 * the session emits and reacts after a human reaction time: blinks, turns its head in its OWN left/right (positive
 * image yaw = subject's left for the unmirrored camera), fixes what the quality prompt asks, and its face luminance
 * follows the LED light sequence with camera latency. Frames are noisy (synth.ts) and the "shell" embeds one frame
 * every `embedEveryMs`. Not a spec file: helpers only.
 */
import { ManualClock } from '../../../src/lib/clock.ts';
import { chipIndexAt, type LightSchedule } from '../../../src/session/light.ts';
import { resolvePolicy, type PolicyInput } from '../../../src/session/policy.ts';
import { assessQuality } from '../../../src/session/quality.ts';
import type { PromptId } from '../../../src/session/prompts.ts';
import { seededRandom } from '../../../src/session/random.ts';
import { RegistrationSession, type SessionInput, type SessionOutput } from '../../../src/session/session.ts';
import type { FaceTemplate } from '../../../src/vision/matcher.ts';
import type { FaceSignals, FrameSignals } from '../../../src/session/signals.ts';
import { baseFace, blinkEyes, noisyCopy, prng, randomTemplate, turnYaw, withEyes } from './synth.ts';

export interface CustomerOptions {
  seed?: number;
  reactionMs?: number;
  /** prompts the customer ignores */
  ignores?: PromptId[];
  /** 'follow' the LEDs, stay 'constant' (a photo), or follow another sequence (a replay) */
  luma?: 'follow' | 'constant' | { other: LightSchedule };
  lightLagMs?: number;
  antispoof?: number;
  /** which frames (index from 0) the vision side scored for anti-spoof (a face track scores alternate ones); default all */
  antispoofScored?: (frame: number) => boolean;
  /** the identity embeddings come from (index 0 = the person on the ID photo) */
  identity?: (t: number) => FaceTemplate;
  faceCount?: (t: number) => number;
  /** a problem present until the customer reacts to the first quality prompt */
  initialProblem?: Partial<FaceSignals>;
  /** a problem the customer never fixes */
  persistentProblem?: Partial<FaceSignals>;
  embedEveryMs?: number;
  /** the camera mirrors the image: the customer's own left turn shows as negative image yaw */
  mirroredCamera?: boolean;
  dropRate?: number;
  /** image yaw this customer reads when facing the camera (pose-model bias for this face, or a turned seat) */
  frontalYawDeg?: number;
  /** how far the customer turns when asked, from their own frontal (default 30 deg) */
  turnDeg?: number;
  /** image yaw added once the customer has seen a challenge prompt: a head that settles elsewhere after the gate */
  driftDeg?: number;
}

export interface RunOptions {
  policy?: PolicyInput;
  seed?: string;
  /** stop feeding frames at this session time */
  untilMs?: number;
  /** extra inputs at given times (cancel, assist, errors) */
  at?: Array<{ atMs: number; input: SessionInput }>;
  /** reference template; defaults to a noisy copy of the customer's person */
  template?: FaceTemplate;
  referenceUnusable?: boolean;
  /** keep every embedding handed to the session, to check zeroing */
  keep?: FaceTemplate[];
  /** called before each frame with the prompt showing: what the session asks of the shell at that moment */
  beforeFrame?: (session: RegistrationSession, prompt: PromptId) => void;
}

export interface RunResult {
  session: RegistrationSession;
  outputs: SessionOutput[];
  prompts: Array<{ prompt: PromptId; atMs: number }>;
}

export const PERSON = randomTemplate(prng(1000));
export const OTHER_PERSON = randomTemplate(prng(2000));

export function runSession(c: CustomerOptions = {}, o: RunOptions = {}): RunResult {
  const rand = prng(c.seed ?? 11);
  const clock = new ManualClock(10_000);
  const policy = resolvePolicy(o.policy);
  const session = new RegistrationSession({
    sessionId: 's-1', nonce: 'nonce-1', policy, clock, random: seededRandom(o.seed ?? 'seed-1'),
  });
  const outputs: SessionOutput[] = [];
  const prompts: RunResult['prompts'] = [];
  let current: { prompt: PromptId; atMs: number; light?: LightSchedule } = { prompt: 'please_wait', atMs: 0 };
  let fixed = false;
  let challenged = false;
  const feed = (input: SessionInput): void => {
    for (const out of session.handle(input)) {
      outputs.push(out);
      if (out.type !== 'prompt') continue;
      prompts.push({ prompt: out.prompt, atMs: out.atMs });
      if (out.prompt !== current.prompt) {
        current = { prompt: out.prompt, atMs: out.atMs, light: out.light };
        challenged ||= ['blink', 'turn_left', 'turn_right', 'watch_light'].includes(out.prompt);
      }
    }
  };
  const reaction = c.reactionMs ?? 400;
  const t0 = clock.now();
  const pending = [...(o.at ?? [])].sort((a, b) => a.atMs - b.atMs);
  feed({ type: 'start' });
  clock.advance(80);
  const template = o.template ?? noisyCopy(PERSON, rand);
  o.keep?.push(template);
  feed(o.referenceUnusable ? { type: 'reference_unusable', reason: 'reference_unusable', detail: 'no_face' } : { type: 'reference', template });
  let lastEmbed = -Infinity;
  const over = (): boolean => session.result !== undefined;
  for (let t = 100; t < (o.untilMs ?? 70_000) && !over(); t += 33) {
    clock.set(t0 + t);
    while (pending.length > 0 && pending[0].atMs <= t) feed(pending.shift()!.input);
    if (over()) break;
    if (rand() < (c.dropRate ?? 0)) {
      if (t % 330 < 33) feed({ type: 'tick' });
      continue;
    }
    o.beforeFrame?.(session, current.prompt);
    const now = clock.now();
    const since = now - current.atMs - reaction;
    const obeys = !(c.ignores ?? []).includes(current.prompt);
    let face = baseFace(rand, { antispoof: Math.min(1, Math.max(0, (c.antispoof ?? 0.8) + (rand() - 0.5) * 0.1)) });
    const frontal = (c.frontalYawDeg ?? 0) + (challenged ? (c.driftDeg ?? 0) : 0);
    face = { ...face, yawDeg: face.yawDeg + frontal };
    const isQualityPrompt = !['please_wait', 'look_at_camera', 'blink', 'turn_left', 'turn_right', 'watch_light', 'done'].includes(current.prompt);
    if (isQualityPrompt && obeys && since >= 0) fixed = true;
    if (c.initialProblem && !fixed) face = { ...face, ...c.initialProblem };
    if (c.persistentProblem) face = { ...face, ...c.persistentProblem };
    if (obeys && current.prompt === 'blink') {
      const v = blinkEyes(since, 0, 250);
      if (v !== undefined) face = withEyes(face, v, rand);
    }
    if (obeys && (current.prompt === 'turn_left' || current.prompt === 'turn_right')) {
      const y = turnYaw(since, 0, 400, 400, c.turnDeg ?? 30);
      if (y !== undefined) {
        const ownLeft = current.prompt === 'turn_left' ? y : -y;
        face = { ...face, yawDeg: frontal + (c.mirroredCamera ? -ownLeft : ownLeft) };
      }
    }
    const follow = c.luma ?? 'follow';
    const seq = follow === 'follow' ? current.light : follow === 'constant' ? undefined : follow.other;
    if (seq) {
      const i = chipIndexAt(seq, now - (c.lightLagMs ?? 120));
      if (i >= 0) face = { ...face, faceLuma: face.faceLuma + 8 * seq.chips[i] };
    }
    if (now - lastEmbed >= (c.embedEveryMs ?? 100)) {
      lastEmbed = now;
      const e = noisyCopy(c.identity ? c.identity(t) : PERSON, rand);
      o.keep?.push(e);
      face = { ...face, embedding: e };
    }
    if (c.antispoofScored && !c.antispoofScored(Math.round((t - 100) / 33))) {
      const { antispoof: _unscored, ...rest } = face;
      face = rest;
    }
    const faceCount = c.faceCount ? c.faceCount(t) : 1;
    const frame: FrameSignals = faceCount === 0
      ? { seq: t, tsMs: now, frameWidth: 640, frameHeight: 480, faceCount: 0 }
      : { seq: t, tsMs: now, frameWidth: 640, frameHeight: 480, faceCount, face };
    feed({ type: 'frame', frame, quality: assessQuality(frame, policy.quality) });
  }
  return { session, outputs, prompts };
}
