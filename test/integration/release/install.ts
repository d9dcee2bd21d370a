import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageLock } from '../../../scripts/release-lock.ts';

const REPO = new URL('../../../', import.meta.url).pathname;

/**
 * Installs a release's node_modules the way `npm ci --omit=dev` would on this platform, offline: every package in
 * the release's own package-lock.json is copied from the repository's node_modules (same versions, already built
 * for this machine), and nothing else. Optional platform packages that are not installed here (other OS/CPU) are
 * skipped, as npm skips them. Returns the number of packages copied.
 */
export function installFromLock(releaseDir: string): number {
  const lock = JSON.parse(readFileSync(join(releaseDir, 'package-lock.json'), 'utf8')) as PackageLock;
  let copied = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '') continue;
    const from = join(REPO, path);
    if (!existsSync(from)) {
      if (entry.optional) continue;
      throw new Error(`${path} is in the release lock but not installed in the repository`);
    }
    // filter: nested node_modules are their own lock entries; copy them only when the lock lists them
    cpSync(from, join(releaseDir, path), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => !src.slice(from.length).includes('/node_modules'),
    });
    copied++;
  }
  return copied;
}
