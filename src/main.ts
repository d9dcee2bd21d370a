import { releaseVersion } from './app-root.ts';
import { COMMANDS } from './cli/commands.ts';
import { EXIT, RegtermError, errorMessage, isRegtermError } from './lib/errors.ts';

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`);
  return `usage: regterm <command> [options]    (regterm --version)\n\ncommands:\n${rows.join('\n')}\n`;
}

/** A release whose native modules were not installed fails here; say what to do instead of printing a stack. */
async function loadCommand<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e: unknown) {
    const code = (e as { code?: unknown } | null)?.code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
    throw new RegtermError(
      `'${name}' needs a module that is not installed (${errorMessage(e).split('\n')[0]}); run 'npm ci --omit=dev' in the release directory`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`regterm ${releaseVersion()}\n`);
    return EXIT.ok;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`regterm: unknown command '${name}'\n\n${usage()}`);
    return EXIT.usage;
  }
  const command = await loadCommand(name, entry.load);
  if (command.USAGE && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${command.USAGE.trimEnd()}\n`);
    return EXIT.ok;
  }
  return command.run({ argv: rest, stdout: process.stdout, stderr: process.stderr, env: process.env });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e: unknown) {
  // Expected failures (bad input, missing models) print one clear line; anything else is a bug and keeps its stack.
  if (isRegtermError(e)) {
    process.stderr.write(`regterm: ${errorMessage(e)}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`regterm: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT.failure;
  }
}
