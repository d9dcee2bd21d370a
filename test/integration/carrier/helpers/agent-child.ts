/**
 * A real terminal's carrier half in its own process, for kill -9 tests: opens the SQLite outbox and the link from a
 * config file, decides sessions `<prefix><from>..<prefix><to-1>` one after another and prints
 * `committed <sessionId> <seq>` after each submitResult() resolved (the moment the verdict would be shown).
 * It prints `ready` once the link started. Then it prints `done` and keeps delivering until SIGTERM, which stops the link and closes the database.
 *
 * usage: node --import tsx agent-child.ts CONFIG.json PREFIX FROM TO [DELAY_MS]
 */
import { readFileSync } from 'node:fs';
import { carrierConfigSchema } from '../../../../src/carrier/config.ts';
import { openCarrier } from '../../../../src/carrier/open.ts';
import { createLogger } from '../../../../src/lib/logger.ts';
import { decision } from '../../../unit/carrier/helpers.ts';

const [configPath, prefix, fromArg, toArg, delayArg] = process.argv.slice(2);
const config = carrierConfigSchema.parse(JSON.parse(readFileSync(configPath!, 'utf8')));
const logger = createLogger({ level: 'warn', destination: process.stderr });
const carrier = await openCarrier(config, { logger, version: '0.1.0', modelsHash: 'm1' });
const controller = new AbortController();
process.once('SIGTERM', () => {
  controller.abort();
  void carrier.close().then(() => process.exit(0));
});
await carrier.link.start(controller.signal);
process.stdout.write('ready\n');
const delay = Number(delayArg ?? 0);
for (let i = Number(fromArg); i < Number(toArg) && !controller.signal.aborted; i++) {
  const entry = await carrier.link.submitResult(decision(`${prefix}${i}`));
  process.stdout.write(`committed ${entry.sessionId} ${entry.seq}\n`);
  if (delay) await new Promise((r) => setTimeout(r, delay));
}
process.stdout.write('done\n');
