/**
 * One `regterm eval replay-attack` session in detail: which challenges the looped recording was asked and when each
 * passed (docs/antispoof.md, replay attacks). Same session as the command (replay.ts \`session\`, LoopingReplay, the
 * clip's own frame as the ID photo, the live turn reaction window):
 *   npx tsx research/replay-session.ts CLIP.mp4 SEED...        (SEED as in the command's matchSeeds: replay-attack-<k>)
 */
import pino from 'pino';
import { LoopingReplay } from '../src/camera/looping-replay.ts';
import { createLogger } from '../src/lib/logger.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { REFERENCE_AT, recordingFrameAsPng, session } from '../src/cli/replay.ts';
const clip = process.argv[2];
const logger = createLogger({ level: 'warn', destination: pino.destination({ dest: 2, sync: true }) });
const engine = new FaceEngine({ logger });
await engine.start();
const own = await recordingFrameAsPng(clip, REFERENCE_AT, logger);
for (const seed of process.argv.slice(3)) {
  const camera = new LoopingReplay({ path: clip, logger, maxPasses: 30 });
  const out = await session(engine, { recording: clip, json: true, eventsOnly: false, seed, liveReactionWindow: true }, logger, undefined, own.slice(), camera);
  console.log(seed, out.json.decision, JSON.stringify(out.json.challenges), out.line);
}
await engine.stop();
