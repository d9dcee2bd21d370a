import { fileURLToPath } from 'node:url';

/**
 * The directory the agent is installed in: the repository in development (this file is src/app-root.ts) and the
 * release directory when bundled, because the release keeps the same depth (`dist/regterm.mjs`, see scripts/build.ts).
 * Files shipped with the agent (models/, systemd/) are found from here, so nothing resolves outside the install.
 */
export const APP_ROOT = fileURLToPath(new URL('..', import.meta.url));
