import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PATHS, under } from '../device/provision/layout.ts';
import { applyUpdateCommand } from '../device/update/download.ts';
import { applyRelease, currentVersion } from '../device/update/install.ts';
import { readOutcome, readPending } from '../device/update/pending.ts';
import { parseSignature } from '../device/update/release-signature.ts';
import { applyStaged } from '../device/update/staged.ts';
import { EXIT, UsageError, errorMessage } from '../lib/errors.ts';
import { type CommandContext, writeJson } from './command.ts';

export const USAGE = `usage:
  regterm update apply FILE|URL [--sig FILE|URL] [--sha256 HEX] [--deadline S] [--root DIR] [--no-restart] [--json]
      verifies a release tarball (signed by a key pinned in ${PATHS.releaseKeys}; --sig defaults to FILE.sig),
      unpacks it as ${PATHS.releases}/<version>, switches ${PATHS.current} to it and restarts the service. The new
      version is on trial: if it does not reach READY before --deadline (default 600 s) or keeps restarting, the
      unit's update guard switches back to the previous release (docs/release.md). --root DIR: an image (no restart).
  regterm update apply-staged [--root DIR] [--no-restart] [--json]
      installs the release the agent staged in ${PATHS.updateDir}/staged after the carrier's update command (run as
      root by regterm-update.path; the same checks and trial as apply). Nothing staged: exits 0 doing nothing.
  regterm update status [--root DIR] [--json]
      the current release, the installed ones, a trial in progress and the last outcome`;

export async function run(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  if (sub === 'apply') return apply(ctx, rest);
  if (sub === 'apply-staged') return applyStagedCommand(ctx, rest);
  if (sub === 'status') return status(ctx, rest);
  throw new UsageError(USAGE);
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        sig: { type: 'string' }, sha256: { type: 'string' }, deadline: { type: 'string' }, root: { type: 'string' },
        'no-restart': { type: 'boolean' }, json: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e: unknown) {
    throw new UsageError(`${errorMessage(e)}\n${USAGE}`);
  }
}

async function apply(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const root = resolve(values.root ?? '/');
  const deadlineS = values.deadline === undefined ? undefined : Number(values.deadline);
  if (deadlineS !== undefined && !(Number.isInteger(deadlineS) && deadlineS > 0)) throw new UsageError('--deadline must be a positive whole number of seconds');
  if (values.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(values.sha256)) throw new UsageError('--sha256 must be 64 hex digits');
  const source = positionals[0];
  // --no-restart, or an image root: nothing to restart; otherwise the default (systemctl restart regterm.service)
  const restart = values['no-restart'] || root !== '/' ? () => undefined : undefined;
  let result;
  if (/^https?:\/\//.test(source)) {
    result = await applyUpdateCommand({ root, url: source, sha256: values.sha256, sigUrl: values.sig, deadlineS, restart });
  } else {
    const tarball = resolve(source);
    if (!existsSync(tarball)) throw new UsageError(`${tarball} does not exist`);
    const signature = parseSignature(readFileSync(values.sig ?? `${tarball}.sig`, 'utf8'));
    result = await applyRelease({ root, tarball, signature, expectSha256: values.sha256, deadlineS, restart });
  }
  if (values.json) writeJson(ctx.stdout, result);
  else ctx.stdout.write(result.status === 'switched'
    ? `regterm update: ${result.previous ?? '(none)'} -> ${result.version} (on trial until READY and stable)\n`
    : `regterm update: ${result.version} is already current\n`);
  return EXIT.ok;
}

async function applyStagedCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  if (positionals.length !== 0) throw new UsageError(USAGE);
  const root = resolve(values.root ?? '/');
  const result = await applyStaged({ root, restart: values['no-restart'] || root !== '/' ? () => undefined : undefined });
  if (values.json) writeJson(ctx.stdout, result ?? { status: 'nothing-staged' });
  else ctx.stdout.write(result === undefined ? 'regterm update: nothing staged\n' : `regterm update: ${result.previous ?? '(none)'} -> ${result.version} (${result.status})\n`);
  return EXIT.ok;
}

async function status(ctx: CommandContext, args: string[]): Promise<number> {
  const { values } = parse(args);
  const root = resolve(values.root ?? '/');
  const releasesDir = under(root, PATHS.releases);
  const s = {
    current: currentVersion(root),
    releases: existsSync(releasesDir) ? readdirSync(releasesDir).filter((n) => !n.startsWith('.')).sort() : [],
    pending: readPending(under(root, PATHS.updateDir)),
    outcome: readOutcome(under(root, PATHS.updateDir)),
  };
  if (values.json) writeJson(ctx.stdout, s);
  else {
    ctx.stdout.write(`current: ${s.current ?? '(none)'}\nreleases: ${s.releases.join(', ') || '(none)'}\n`);
    if (s.pending) ctx.stdout.write(`on trial: ${s.pending.version} (previous ${s.pending.previous || 'none'}, ${s.pending.attempts} start(s), ${s.pending.ready_at ? 'READY' : 'not READY yet'})\n`);
    if (s.outcome) ctx.stdout.write(`last outcome: ${s.outcome.version} ${s.outcome.result}: ${s.outcome.reason}\n`);
  }
  return EXIT.ok;
}
