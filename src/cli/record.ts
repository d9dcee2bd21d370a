import { parseArgs } from 'node:util';
import { CAMERA_FLAGS, cameraSpecFromFlags, createFrameSource } from '../camera/create-frame-source.ts';
import { SYSTEM_CLOCK } from '../lib/clock.ts';
import { EVENTS_COLUMNS } from '../camera/events-csv.ts';
import { importRecording } from '../camera/recording-import.ts';
import { RecordingWriter } from '../camera/recording.ts';
import { createLogger } from '../lib/logger.ts';
import { EXIT, RegtermError, UsageError, errorMessage, isRegtermError } from '../lib/errors.ts';
import { createPanel, parsePins, splitPins, type Panel } from '../panel/create-panel.ts';
import { PatternPlayer } from '../panel/pattern-player.ts';
import type { Leds } from '../panel/panel.ts';
import { SCHEDULE_FREE_PROMPTS, promptPattern, type PromptId } from '../session/prompts.ts';
import { panelPattern } from '../session/prompt-pattern.ts';
import { writeJson, type CommandContext } from './command.ts';

const USAGE = `usage: regterm record --out DIR [--seconds N] [--camera rpicam|ffmpeg] [--device DEV]
                      [--width W --height H --fps F] [--rpicam-bin PATH] [--stride-align N]
                      [--panel none|sim|gpiod|onoff] [--pins JSON] [--gpio-root DIR] [--gpiod-dir DIR] [--gpiochip NAME]
                      [--prompts look_at_camera@0,blink@3,turn_left@6]
       regterm record --import VIDEO [--events CSV] --out DIR
Records camera frames (tight I420, frames.i420), the LED prompts shown and button events into DIR/recording.json.
--import builds a recording that references an existing video in place (no copy) with its events CSV as ground truth:
columns ${EVENTS_COLUMNS.join(',')} (seconds from the first frame; further columns are kept), RFC 4180 quoting.
A recording holds faces: keep it on the terminal or in the test data store.
`;

interface ScheduledPrompt {
  atMs: number;
  prompt: PromptId;
}

/** `look_at_camera@0,blink@3.5` → prompts at seconds from the start; names: the session's prompts (src/session/prompts.ts). */
export function parsePromptSchedule(text: string): ScheduledPrompt[] {
  return text.split(',').filter(Boolean).map((item) => {
    const m = /^([a-z_]+)@(\d+(?:\.\d+)?)$/.exec(item.trim());
    const prompt = SCHEDULE_FREE_PROMPTS.find((p) => p === m?.[1]);
    if (!m || !prompt) {
      throw new UsageError(`--prompts: '${item}' is not NAME@SECONDS with NAME one of ${SCHEDULE_FREE_PROMPTS.join(', ')}`);
    }
    return { prompt, atMs: Math.round(Number(m[2]) * 1000) };
  });
}

/** Leds that also write every change into the recording (what the customer saw, with its time). */
function recordingLeds(inner: Leds, writer: RecordingWriter, now: () => number): Leds {
  return {
    names: inner.names,
    start: () => inner.start(),
    stop: () => inner.stop(),
    isOn: (n) => inner.isOn(n),
    set(name, on) {
      const changed = inner.isOn(name) !== on;
      inner.set(name, on);
      if (changed) writer.addPrompt(now(), name, on);
    },
  };
}

export async function run(ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.argv,
    options: {
      ...CAMERA_FLAGS,
      out: { type: 'string' },
      seconds: { type: 'string' },
      import: { type: 'string' },
      events: { type: 'string' },
      panel: { type: 'string' },
      pins: { type: 'string' },
      'gpio-root': { type: 'string' },
      'gpiod-dir': { type: 'string' },
      gpiochip: { type: 'string' },
      prompts: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (!values.out) throw new UsageError(`--out DIR is required\n${USAGE}`);
  if (values.import) {
    const rec = await importRecording({ video: values.import, eventsCsv: values.events, outDir: values.out });
    writeJson(ctx.stdout, { out: values.out, frames: rec.frames.count, width: rec.width, height: rec.height, fps: rec.fps, groundTruth: rec.groundTruth?.length ?? 0 });
    return EXIT.ok;
  }
  if (values.events) throw new UsageError('--events goes with --import');
  const seconds = values.seconds === undefined ? 10 : Number(values.seconds);
  if (!(seconds > 0 && seconds <= 3600)) throw new UsageError(`--seconds must be in (0, 3600] (got '${values.seconds}')`);
  const panelKind = values.panel ?? 'none';
  if (panelKind !== 'none' && panelKind !== 'sim' && panelKind !== 'gpiod' && panelKind !== 'onoff') {
    throw new UsageError(`--panel must be none, sim, gpiod or onoff (got '${panelKind}')`);
  }
  const schedule = values.prompts ? parsePromptSchedule(values.prompts) : [];
  if (schedule.length && panelKind === 'none') throw new UsageError('--prompts needs a panel (--panel sim, gpiod or onoff)');
  const spec = cameraSpecFromFlags(values);
  const pins = values.pins ? parsePins(values.pins) : undefined;

  const logger = createLogger({ level: ctx.env.LOG_LEVEL ?? 'warn' });
  const clock = SYSTEM_CLOCK;
  const camera = createFrameSource(spec, logger);
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let panel: Panel | undefined;
  let player: PatternPlayer | undefined;
  let writer: RecordingWriter | undefined;
  let recorded = 0;
  const timers: unknown[] = [];
  try {
    await camera.start(ac.signal);
    // time zero of the recording is now: prompts scheduled at 0 s are at 0 ms, frames follow as they arrive
    const w = new RecordingWriter(values.out, { camera: { backend: spec.backend, device: spec.device }, width: spec.width, height: spec.height, fps: spec.fps }, clock.now());
    await w.open();
    writer = w;
    if (panelKind !== 'none') {
      const p = await createPanel({ backend: panelKind, ...(pins ? splitPins(pins) : {}), gpioRoot: values['gpio-root'],
        gpiodToolsDir: values['gpiod-dir'], gpiochip: values.gpiochip }, logger);
      panel = p;
      const leds = recordingLeds(p.leds, w, clock.now);
      await leds.start();
      await p.buttons.start();
      p.buttons.onEdge((e) => w.addButton(e.tMs, e.button, e.pressed));
      const pl = new PatternPlayer(leds, clock, (e) => logger.error({ err: e }, 'prompt pattern failed'));
      player = pl;
      for (const s of schedule) timers.push(clock.setTimeout(() => pl.show('prompt', panelPattern(promptPattern(s.prompt), leds.names)), s.atMs));
    }
    timers.push(clock.setTimeout(() => ac.abort(), seconds * 1000));
    for await (const frame of camera.frames(ac.signal)) {
      await w.addFrame(frame);
      frame.data.fill(0);
    }
  } catch (e: unknown) {
    throw isRegtermError(e) ? e : new RegtermError(`record: ${errorMessage(e)}`, EXIT.failure, { cause: e });
  } finally {
    timers.forEach((t) => clock.clearTimeout(t));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    player?.stop();
    await panel?.buttons.stop();
    await panel?.leds.stop();
    const stats = camera.stats();
    await camera.stop();
    if (writer) {
      const rec = await writer.finish();
      recorded = rec.frames.count;
      writeJson(ctx.stdout, {
        out: values.out, frames: rec.frames.count, drops: stats.drops, fps: Math.round(stats.fps * 10) / 10,
        restarts: stats.restarts, prompts: rec.prompts.length, buttons: rec.buttons.length,
      });
    }
  }
  if (recorded === 0) {
    const h = camera.health();
    throw new RegtermError(`record: no frame arrived${h.status === 'camera_unavailable' ? ` (${h.reason})` : ''}`, EXIT.camera);
  }
  return EXIT.ok;
}
