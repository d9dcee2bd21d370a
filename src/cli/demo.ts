import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ReplaySource } from '../camera/replay-source.ts';
import type { SessionRequest } from '../carrier/protocol.ts';
import type { CarrierView } from '../compose/demo/carrier-stand-in.ts';
import { DEMO_CLIP } from '../compose/demo/asset.ts';
import { DemoRig } from '../compose/demo/rig.ts';
import { LedView, WatchedLeds } from '../compose/demo/led-view.ts';
import { extractJpegFrame } from '../compose/demo/reference-frame.ts';
import { createLogger } from '../lib/logger.ts';
import { EXIT, UsageError, errorMessage } from '../lib/errors.ts';
import { DEFAULT_BUTTON_PINS, DEFAULT_LED_PINS } from '../panel/panel.ts';
import { SimButtons, SimLeds } from '../panel/sim-panel.ts';
import { seededRandom } from '../session/random.ts';
import { RECORDING_ANSWER_WINDOWS } from '../session/policy.ts';
import { writeJson, type CommandContext } from './command.ts';

const HELP = `usage: regterm demo [--clip VIDEO] [--challenge TYPE] [--reference-at SECONDS] [--seed TEXT] [--timeout S] [--json] [--verbose]

One complete registration on this machine: the agent replays a recorded clip as its camera, draws its LEDs here,
and talks MQTT 3.1.1 to an embedded broker, where a carrier stand-in signs the session request, verifies the signed
result and acknowledges it. The ID photo is a frame of the same clip, extracted in memory.

  --clip VIDEO         default: the bundled clip, models/demo/clip.mp4 (a few seconds of one person; see
                       models/demo/SOURCE.md)
  --challenge TYPE     the one motion challenge: blink, turn_left or turn_right (default turn_left: what the
                       bundled clip shows after its person faces the camera)
  --reference-at S     the ID photo is the clip's frame at S seconds; negative counts from the end (default -1)
  --seed TEXT          fixed pause before the challenge (default: random per run)
  --timeout S          how long the carrier stand-in waits for the signed result (default 180; more under emulation)
  --json               print the carrier's view at the end: { decision, verified, jws, payload }
  --verbose            agent logs (JSON) on stderr

Every clip runs the same session. A recording cannot answer the LED light challenge or a challenge drawn at
random, so the demo asks for one motion, which the clip must show after its person has faced the camera for the
quality gate, followed by a second of frontal face for the match. If the clip ends first, the demo says so and
exits 1, as it does when the result does not verify. Nor does a recording react to the prompt: its motion may start
any time before the challenge's deadline.
`;

const MOTIONS = ['blink', 'turn_left', 'turn_right'] as const;
type Motion = (typeof MOTIONS)[number];
const DEFAULT_REFERENCE_AT_S = -1;
const RESULT_TIMEOUT_MS = 180_000;
const VERDICT_SHOW_MS = 2000;

/**
 * The light challenge needs a live face answering the LEDs; a recording cannot, so the demo leaves it out. Nor does a
 * recording react to the prompt: its blink or turn may start any time before the challenge's deadline.
 */
function demoPolicy(challenge: Motion): SessionRequest['policy'] {
  return { ...RECORDING_ANSWER_WINDOWS, challenges: { set: [challenge], required: [], count: 1 } };
}

export async function run(ctx: CommandContext): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: ctx.argv, options: {
      clip: { type: 'string' }, challenge: { type: 'string', default: 'turn_left' }, 'reference-at': { type: 'string' },
      seed: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    } }));
  } catch (e: unknown) {
    throw new UsageError(`${errorMessage(e)}\n${HELP}`);
  }
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.ok;
  }
  const clip = values.clip === undefined ? DEMO_CLIP : resolve(values.clip);
  if (!existsSync(clip)) {
    throw new UsageError(values.clip === undefined ? `the bundled demo clip ${clip} is missing; pass --clip VIDEO` : `clip ${clip} does not exist`);
  }
  const challenge = values.challenge as Motion;
  if (!MOTIONS.includes(challenge)) throw new UsageError(`--challenge must be one of ${MOTIONS.join(', ')} (got '${values.challenge}')`);
  const referenceAt = values['reference-at'] === undefined ? DEFAULT_REFERENCE_AT_S : Number(values['reference-at']);
  if (!Number.isFinite(referenceAt)) throw new UsageError(`--reference-at must be a number of seconds (got '${values['reference-at']}')`);

  const timeoutMs = values.timeout === undefined ? RESULT_TIMEOUT_MS : Number(values.timeout) * 1000;
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) throw new UsageError(`--timeout must be a positive whole number of seconds (got '${values.timeout}')`);

  const view = new LedView(values.json ? ctx.stderr : ctx.stdout, Object.keys(DEFAULT_LED_PINS));
  const logger = createLogger({ level: values.verbose ? 'info' : 'error', destination: ctx.stderr });
  const leds = new WatchedLeds(new SimLeds(Object.keys(DEFAULT_LED_PINS)), (lit) => view.leds(lit));
  const camera = new ReplaySource({ path: clip, pace: 'fast', logger });
  let lastState = 'quality';
  const rig = await DemoRig.open({
    clip, camera, logLevel: values.verbose ? 'info' : 'error', logDestination: ctx.stderr,
    panel: { leds, buttons: new SimButtons(Object.keys(DEFAULT_BUTTON_PINS), logger) },
    random: values.seed === undefined ? undefined : seededRandom(values.seed),
    onProgress: (_id, e) => {
      if (e.event === 'state' && typeof e.state === 'string' && e.state !== 'decided') lastState = e.state;
      view.line(e.event === 'prompt' ? `prompt: ${String(e.prompt)}` : `${String(e.state)}: ${String(e.event)}${detail(e.detail)}`);
    },
  });
  const onSigint = () => { void rig.stopAgent('SIGINT'); };
  process.once('SIGINT', onSigint);
  let carrierView: CarrierView;
  let ranOut: string | undefined;
  try {
    view.line(`clip ${clip}; loading models`);
    await rig.start();
    const reference = await extractJpegFrame(clip, referenceAt);
    view.line(`carrier: session requested (ID photo: frame at ${referenceAt} s, ${reference.length} bytes, in memory; challenge ${challenge})`);
    carrierView = await rig.session(reference, demoPolicy(challenge), timeoutMs);
    reference.fill(0);
    ranOut = clipRanOut(camera, carrierView, lastState);
    if (!values.json && view.live) await new Promise((r) => setTimeout(r, VERDICT_SHOW_MS)); // let the verdict LEDs be seen
    view.line(`carrier: result ${carrierView.verified ? 'VERIFIED' : 'NOT VERIFIED'} — decision ${carrierView.decision}`);
  } finally {
    process.off('SIGINT', onSigint);
    const stopped = await rig.close();
    view.close();
    if (stopped) ctx.stderr.write(`regterm: demo agent stopped with code ${stopped}\n`);
  }
  if (values.json) {
    writeJson(ctx.stdout, { decision: carrierView.decision, verified: carrierView.verified, jws: carrierView.jws, payload: carrierView.payload });
    if (ranOut) ctx.stderr.write(`regterm: ${ranOut}\n`);
  } else {
    ctx.stdout.write(summary(carrierView, ranOut));
  }
  return carrierView.verified && !ranOut ? EXIT.ok : EXIT.failure;
}

/**
 * When a session that did not end in a match had read every frame of the clip, the recording ran out: the decision
 * (often `no_face`: no face after the last frame) says nothing about the person, so the demo names the cause.
 */
function clipRanOut(camera: ReplaySource, v: CarrierView, state: string): string | undefined {
  const total = camera.recording?.frames.count ?? 0;
  if (v.decision === 'match' || camera.stats().frames < total) return undefined;
  return `the clip ended during the ${state} step (all ${total} frames played): the session could not finish, and its ` +
    `decision ${v.decision} was reached on the empty time after the last frame. A demo clip must show the challenge ` +
    'after the quality gate, then a second of frontal face';
}

function detail(d: unknown): string {
  if (typeof d !== 'object' || d === null) return '';
  return ` ${Object.entries(d).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`;
}

function summary(v: CarrierView, ranOut: string | undefined): string {
  const p = v.payload;
  if (!p) return `\nresult NOT verified: ${v.error ?? 'unknown'}\n`;
  const scores = Object.entries(p.scores).map(([k, s]) => `${k} ${Number.isInteger(s) ? s : s.toFixed(3)}`).join(', ');
  const challenges = p.challenges.map((c) => `${c.type} ${c.passed ? 'passed' : 'failed'} (${c.ms} ms)`).join(', ');
  return [
    '',
    `decision:   ${p.decision} (decided by ${p.decidedBy}${p.reason ? `, ${p.reason}` : ''})`,
    `verified:   yes — Ed25519 signature by device key, seq ${p.seq}`,
    `challenges: ${challenges || 'none'}`,
    `scores:     ${scores || 'none'}`,
    `session:    ${p.sessionId}`,
    ...(ranOut ? [`note:       ${ranOut}`] : []),
    '',
  ].join('\n');
}
