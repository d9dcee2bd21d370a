import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncPath, writeFileAtomic } from '../../lib/atomic-write.ts';

/**
 * The update's trial state in /var/lib/regterm/update/ (docs/release.md), shared with scripts/update-guard (POSIX sh,
 * run by the unit as ExecStartPre/ExecStartPost), hence plain `key=value` lines:
 *
 *   pending   written by `update apply` before `current` switches: version, previous, deadline (epoch s),
 *             max_attempts, attempts (starts counted by the guard), ready_at (epoch s of the last READY, 0 = never)
 *   outcome   written when the trial ends: result (confirmed | rolled-back | failed), version, previous, reason, at;
 *             the agent reports it to the carrier and then removes it (acknowledgeOutcome)
 *
 * A trial ends confirmed when the new version stayed up PROBATION_S after READY; rolled back when a start would be
 * number max_attempts + 1 without a stable run (crashes, hangs, restarts within PROBATION_S of READY) or comes after
 * the deadline with no READY yet; failed when `current` is not the version on trial (apply stopped before the switch).
 */
export const PROBATION_S = 120;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_DEADLINE_S = 600;

export interface PendingUpdate {
  version: string;
  previous: string;
  deadline: number;
  max_attempts: number;
  attempts: number;
  ready_at: number;
}

export interface UpdateOutcome {
  result: 'confirmed' | 'rolled-back' | 'failed';
  version: string;
  previous: string;
  reason: string;
  at: number;
}

export const pendingPath = (updateDir: string) => join(updateDir, 'pending');
export const outcomePath = (updateDir: string) => join(updateDir, 'outcome');

function parseLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !(line.slice(0, eq) in out)) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

const lines = (o: object) => `${Object.entries(o).map(([k, v]) => `${k}=${String(v)}`).join('\n')}\n`;

export function readPending(updateDir: string): PendingUpdate | undefined {
  if (!existsSync(pendingPath(updateDir))) return undefined;
  const f = parseLines(readFileSync(pendingPath(updateDir), 'utf8'));
  const num = (k: string) => (Number.isFinite(Number(f[k])) ? Number(f[k]) : 0);
  return { version: f.version ?? '', previous: f.previous ?? '', deadline: num('deadline'), max_attempts: num('max_attempts'), attempts: num('attempts'), ready_at: num('ready_at') };
}

export function writePending(updateDir: string, p: PendingUpdate): void {
  writeFileAtomic(pendingPath(updateDir), lines(p), 0o644);
}

export function readOutcome(updateDir: string): UpdateOutcome | undefined {
  if (!existsSync(outcomePath(updateDir))) return undefined;
  const f = parseLines(readFileSync(outcomePath(updateDir), 'utf8'));
  const result = f.result === 'confirmed' || f.result === 'rolled-back' || f.result === 'failed' ? f.result : 'failed';
  return { result, version: f.version ?? '', previous: f.previous ?? '', reason: f.reason ?? '', at: Number(f.at) || 0 };
}

/** An outcome for the agent to report (a trial's end, or an install that failed before the switch). */
export function writeOutcome(updateDir: string, outcome: UpdateOutcome): void {
  writeFileAtomic(outcomePath(updateDir), lines(outcome), 0o644);
}

/** Ends the trial: the outcome is written first, then the pending marker goes (a crash between leaves both: the guard ends it again). */
export function finishTrial(updateDir: string, p: PendingUpdate, result: UpdateOutcome['result'], reason: string, nowS: number): UpdateOutcome {
  const outcome: UpdateOutcome = { result, version: p.version, previous: p.previous, reason, at: nowS };
  writeOutcome(updateDir, outcome);
  rmSync(pendingPath(updateDir), { force: true });
  fsyncPath(updateDir);
  return outcome;
}

/**
 * For the running agent (or `update apply` before a new trial): a version on trial that has been READY for
 * PROBATION_S while running is confirmed. Returns the outcome when this call ended the trial.
 */
export function settleTrial(updateDir: string, runningVersion: string, nowS: number): UpdateOutcome | undefined {
  const p = readPending(updateDir);
  if (!p || p.version !== runningVersion || p.ready_at === 0 || nowS - p.ready_at < PROBATION_S) return undefined;
  return finishTrial(updateDir, p, 'confirmed', `up ${nowS - p.ready_at} s after READY`, nowS);
}

/** The carrier got the outcome: it is removed (renamed first, so a crash never leaves half a file). */
export function acknowledgeOutcome(updateDir: string): void {
  if (!existsSync(outcomePath(updateDir))) return;
  renameSync(outcomePath(updateDir), `${outcomePath(updateDir)}.acked`);
  rmSync(`${outcomePath(updateDir)}.acked`, { force: true });
  fsyncPath(updateDir);
}
