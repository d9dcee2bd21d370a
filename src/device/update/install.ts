import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync,
  readlinkSync, renameSync, rmSync, symlinkSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { RegtermError, errorMessage } from '../../lib/errors.ts';
import { fsyncPath } from '../../lib/atomic-write.ts';
import { PATHS, UNIT_NAME, under } from '../provision/layout.ts';
import { DEFAULT_DEADLINE_S, DEFAULT_MAX_ATTEMPTS, type UpdateOutcome, readPending, settleTrial, writePending } from './pending.ts';
import { type ReleaseSignature, type VerifiedRelease, readReleaseKeys, verifyRelease } from './release-signature.ts';

/**
 * `regterm update apply`: a signed release tarball installed side by side and switched to atomically (docs/release.md).
 *
 * INVARIANTS: /opt/regterm/current always links to a complete release (every file its RELEASE.json names, with that
 * sha256, nothing else): a release is unpacked into releases/.incoming-*, verified, fsynced and only then renamed to
 * releases/<version>; `current` is replaced by renaming a new link over it. A kill or a full disk at any point leaves
 * the old `current` (or the new one, once switched) and at most a .incoming-* / .trash-* directory, removed by the
 * next apply. Old releases go by rename to .trash-* first, so a releases/<version> name is never half deleted.
 * The pending marker (pending.ts) is written before the switch, so every switch is on trial.
 */
export interface ApplyOptions {
  /** `/` or an image root */
  root: string;
  /** the release tarball (already downloaded) and its signature */
  tarball: string;
  signature: ReleaseSignature;
  /** the sha256 the carrier's update command names */
  expectSha256?: string;
  /** this machine's target (default linux-<process.arch>) */
  target?: string;
  deadlineS?: number;
  maxAttempts?: number;
  now?: () => number;
  /** restarts the service after the switch (default on `/`: systemctl restart regterm.service; elsewhere nothing) */
  restart?: () => void;
}

export interface ApplyResult {
  status: 'switched' | 'already-current';
  version: string;
  previous?: string;
  sha256: string;
  kid: string;
  /** a trial this apply found stable and confirmed before starting its own */
  settled?: UpdateOutcome;
  removed: string[];
}

export class UpdateError extends RegtermError {}

interface ReleaseInfo {
  version: string;
  target: string;
  files: Record<string, string>;
}

function walkFiles(dir: string, base = dir, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) walkFiles(p, base, out);
    else if (st.isFile()) out.push(relative(base, p));
    else throw new UpdateError(`${relative(base, p)}: only files and directories may be in a release`);
  }
  return out;
}

/** sha256 of a file read in 1 MiB chunks (a release holds a 100+ MB Node binary; a terminal may have 1 GB of RAM). */
function sha256File(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Checks that `dir` is exactly the release its RELEASE.json describes (every file, its sha256, nothing more) and is
 * `version` for `target` when given. Returns the release info; throws UpdateError otherwise.
 */
export function verifyReleaseTree(dir: string, want?: { version?: string; target?: string }): ReleaseInfo {
  let info: ReleaseInfo;
  try {
    info = JSON.parse(readFileSync(join(dir, 'RELEASE.json'), 'utf8')) as ReleaseInfo;
  } catch (e: unknown) {
    throw new UpdateError(`${dir}: no readable RELEASE.json (${errorMessage(e)})`);
  }
  if (want?.version !== undefined && info.version !== want.version) throw new UpdateError(`${dir} is version ${info.version}, expected ${want.version}`);
  if (want?.target !== undefined && info.target !== want.target) throw new UpdateError(`${dir} is for ${info.target}, this terminal is ${want.target}`);
  const present = walkFiles(dir).filter((f) => f !== 'RELEASE.json').sort();
  const listed = Object.keys(info.files ?? {}).sort();
  const extra = present.filter((f) => !(f in info.files));
  const missing = listed.filter((f) => !present.includes(f));
  if (extra.length || missing.length) {
    throw new UpdateError(`${dir} does not match RELEASE.json: ${missing.length} missing${missing[0] ? ` (${missing[0]})` : ''}, ${extra.length} extra${extra[0] ? ` (${extra[0]})` : ''}`);
  }
  for (const f of listed) {
    if (sha256File(join(dir, f)) !== info.files[f]) throw new UpdateError(`${dir}/${f} does not match its sha256 in RELEASE.json`);
  }
  return info;
}

/** fsync every file and directory under `dir` (children first), so a rename of `dir` publishes complete data. */
function fsyncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (lstatSync(p).isDirectory()) fsyncTree(p);
    else {
      const fd = openSync(p, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  fsyncPath(dir);
}

/** The version `current` links to (releases/<version>), or undefined. */
export function currentVersion(root: string): string | undefined {
  try {
    const target = readlinkSync(under(root, PATHS.current));
    return target.startsWith('releases/') ? target.slice('releases/'.length) : undefined;
  } catch {
    return undefined;
  }
}

/** Points `current` at releases/<version> by renaming a new link over it (atomic), then fsyncs /opt/regterm. */
export function switchCurrent(root: string, version: string): void {
  const link = under(root, PATHS.current);
  const tmp = `${link}.new`;
  rmSync(tmp, { force: true });
  symlinkSync(`releases/${version}`, tmp);
  renameSync(tmp, link);
  fsyncPath(under(root, PATHS.release));
}

/** Removes a directory by renaming it to .trash-* first (a kill mid-delete leaves a .trash-*, never a half release). */
function discard(releases: string, name: string): void {
  const trash = join(releases, `.trash-${name}-${process.pid}-${Date.now()}`);
  renameSync(join(releases, name), trash);
  fsyncPath(releases);
  rmSync(trash, { recursive: true, force: true });
}

/** Unpacks, verifies and publishes releases/<version>; reuses an existing one that verifies. */
function unpack(releases: string, tarball: string, v: VerifiedRelease): void {
  const dest = join(releases, v.version);
  if (existsSync(dest)) {
    try {
      verifyReleaseTree(dest, v);
      return;
    } catch {
      discard(releases, v.version);
    }
  }
  const staging = mkdtempSync(join(releases, '.incoming-'));
  try {
    // --no-same-owner: files belong to root, whoever built the tarball; GNU tar refuses members with `..`.
    execFileSync('tar', ['-xzf', tarball, '-C', staging, '--no-same-owner', '--no-overwrite-dir'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const top = readdirSync(staging);
    if (top.length !== 1 || top[0] !== `regterm-${v.version}`) throw new UpdateError(`the tarball must hold one folder regterm-${v.version}/ (found ${top.join(', ') || 'nothing'})`);
    const unpacked = join(staging, top[0]);
    verifyReleaseTree(unpacked, v);
    fsyncTree(unpacked);
    renameSync(unpacked, dest);
    fsyncPath(releases);
  } catch (e: unknown) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw e instanceof UpdateError ? e : new UpdateError(`unpacking ${v.version} failed: ${stderr || errorMessage(e)}`, undefined, { cause: e });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Leftovers of an interrupted apply: .incoming-*, .trash-*, a current.new link (not the tarball being applied). */
function removeLeftovers(root: string, releases: string, tarball: string): void {
  for (const name of readdirSync(releases)) {
    if (!name.startsWith('.incoming-') && !name.startsWith('.trash-')) continue;
    if (tarball.startsWith(`${join(releases, name)}/`)) continue; // fetchRelease downloads next to the releases
    rmSync(join(releases, name), { recursive: true, force: true });
  }
  rmSync(`${under(root, PATHS.current)}.new`, { force: true });
}

const defaultRestart = () => {
  execFileSync('systemctl', ['restart', '--no-block', UNIT_NAME], { stdio: ['ignore', 'ignore', 'pipe'] });
};

export async function applyRelease(o: ApplyOptions): Promise<ApplyResult> {
  const target = o.target ?? `linux-${process.arch}`;
  const now = o.now ?? Date.now;
  const keys = await readReleaseKeys(under(o.root, PATHS.releaseKeys));
  if (keys.size === 0) throw new UpdateError(`no release key pinned in ${PATHS.releaseKeys} (provision --release-key PUB.pem)`);
  const verified = await verifyRelease(o.tarball, o.signature, keys, o.expectSha256);
  if (verified.target !== target) throw new UpdateError(`the release is for ${verified.target}, this terminal is ${target}`);

  const releases = under(o.root, PATHS.releases);
  const updateDir = under(o.root, PATHS.updateDir);
  mkdirSync(releases, { recursive: true });
  mkdirSync(updateDir, { recursive: true });
  removeLeftovers(o.root, releases, resolve(o.tarball));
  const previous = currentVersion(o.root);
  const nowS = Math.floor(now() / 1000);
  const settled = previous === undefined ? undefined : settleTrial(updateDir, previous, nowS);
  const base = { version: verified.version, sha256: verified.sha256, kid: verified.kid, settled };
  if (previous === verified.version) return { ...base, status: 'already-current', previous, removed: [] };
  const trial = readPending(updateDir);
  if (trial && trial.version === previous) throw new UpdateError(`${previous} is still on trial (not yet stable ${trial.ready_at ? 'after READY' : 'or READY'}); apply again later`);
  if (previous !== undefined) verifyReleaseTree(join(releases, previous)); // the way back must be intact

  unpack(releases, o.tarball, verified);
  writePending(updateDir, {
    version: verified.version, previous: previous ?? '', deadline: nowS + (o.deadlineS ?? DEFAULT_DEADLINE_S),
    max_attempts: o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, attempts: 0, ready_at: 0,
  });
  switchCurrent(o.root, verified.version);
  // Two releases are kept: the new one and the way back.
  const removed: string[] = [];
  for (const name of readdirSync(releases)) {
    if (name !== verified.version && name !== previous && !name.startsWith('.')) {
      discard(releases, name);
      removed.push(name);
    }
  }
  (o.restart ?? (o.root === '/' ? defaultRestart : () => undefined))();
  return { ...base, status: 'switched', previous, removed };
}
