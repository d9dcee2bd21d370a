import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory the agent is installed in: the repository in development (this file is src/app-root.ts) and the
 * release directory when bundled, because the release keeps the same depth (`dist/regterm.mjs`, see scripts/build.ts).
 * Files shipped with the agent (models/, systemd/) are found from here, so nothing resolves outside the install.
 */
export const APP_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The version of the release this runs from (its package.json); results, status and `--version` report it. */
export function releaseVersion(root: string = APP_ROOT): string {
  try {
    return String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version ?? '0.0.0');
  } catch {
    return '0.0.0';
  }
}
