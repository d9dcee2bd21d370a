import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCHER } from '../../../scripts/release-target.ts';

/**
 * verify checks that every Exec* command exists: the installed layout (docs/release.md) is laid out under `dir` and
 * the unit's /opt/regterm paths point into it.
 */
export function installedLayout(dir: string, unit: string): string {
  const opt = join(dir, 'opt', 'regterm');
  mkdirSync(join(opt, 'releases', '0.1.0'), { recursive: true });
  writeFileSync(join(opt, 'releases', '0.1.0', 'regterm'), LAUNCHER, { mode: 0o755 });
  symlinkSync('releases/0.1.0', join(opt, 'current'));
  copyFileSync(new URL('../../../scripts/update-guard', import.meta.url).pathname, join(opt, 'update-guard'));
  return unit.replaceAll('=/opt/regterm/', `=${opt}/`).replaceAll('=+/opt/regterm/', `=+${opt}/`);
}

// systemd-analyze exits 0 on many problems, so any output at all is a failure (issue #7).
export function verify(unitFile: string): { output: string; status: number | null } {
  const run = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  if (run.error) throw run.error;
  return { output: `${run.stdout}${run.stderr}`.trim(), status: run.status };
}


