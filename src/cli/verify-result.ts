import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SignatureError, verifyResult } from '../carrier/jws.ts';
import { readPublicKey } from '../carrier/keys.ts';
import { EXIT, UsageError, errorMessage } from '../lib/errors.ts';
import { writeJson, type CommandContext } from './command.ts';

export const USAGE = 'usage: regterm verify-result --key DEVICE_PUB.pem [FILE]   (reads stdin without FILE)';

/** Carrier side: verifies a device's signed result and prints its payload; exit 1 when the signature is bad. */
export async function run(ctx: CommandContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: ctx.argv, options: { key: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (e: unknown) {
    throw new UsageError(`${errorMessage(e)}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (!values.key || positionals.length > 1) throw new UsageError(USAGE);
  const key = readPublicKey(values.key);
  const file = positionals[0];
  let jws: string;
  try {
    jws = file ? readFileSync(file, 'utf8') : readFileSync(0, 'utf8');
  } catch (e: unknown) {
    throw new UsageError(`cannot read ${file ?? 'stdin'}: ${errorMessage(e)}`);
  }
  try {
    const { kid, payload } = await verifyResult(jws, key);
    writeJson(ctx.stdout, { valid: true, kid, payload });
    return EXIT.ok;
  } catch (e: unknown) {
    if (!(e instanceof SignatureError)) throw e;
    ctx.stderr.write(`regterm: INVALID result: ${e.message}\n`);
    return EXIT.failure;
  }
}
