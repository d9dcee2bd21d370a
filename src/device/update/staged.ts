import {
  closeSync, constants, createReadStream, createWriteStream, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync,
  readFileSync, readdirSync, renameSync, rmSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errorMessage } from '../../lib/errors.ts';
import { fsyncPath } from '../../lib/atomic-write.ts';
import { PATHS, under } from '../provision/layout.ts';
import { type ApplyResult, UpdateError, applyRelease, currentVersion } from './install.ts';
import { writeOutcome } from './pending.ts';
import { parseSignature } from './release-signature.ts';

/**
 * The hand-off between the sandboxed agent and the privileged installer (docs/release.md "The update command"):
 * the agent, which may not write /opt/regterm nor restart its own unit, downloads and verifies a release into the
 * update directory and publishes it by renaming a complete directory to `staged/`; systemd's regterm-update.path sees
 * it and runs `regterm update apply-staged` as root, which copies the files out of the agent's reach, removes
 * `staged/` and runs the same apply as `regterm update apply`. A failure before the switch is written as a `failed`
 * outcome, which the agent reports. The installer trusts nothing the agent wrote: the copy is verified again against
 * the pinned release keys and the sha256 the agent passed on (which the carrier signed).
 */
export const STAGED_DIR = 'staged';
const TARBALL = 'release.tar.gz';
const SIGNATURE = 'release.tar.gz.sig';
const REQUEST = 'request.json';
const MAX_SMALL_FILE = 4096;

export interface StagedRequest {
  version: string;
  sha256: string;
  /** the carrier command's nonce (reports refer to it) */
  nonce: string;
}

export const stagedPath = (updateDir: string) => join(updateDir, STAGED_DIR);

/**
 * Publishes a verified release for the installer: the files go into a fresh directory beside `staged/` (fsynced),
 * which is then renamed to `staged/`, so the installer never sees half of it. `tarball` is moved, not copied.
 */
export function stageRelease(updateDir: string, tarball: string, signatureText: string, request: StagedRequest): void {
  const dir = mkdtempSync(join(updateDir, '.staging-'));
  try {
    renameSync(tarball, join(dir, TARBALL));
    writeFileSync(join(dir, SIGNATURE), signatureText, { mode: 0o644 });
    writeFileSync(join(dir, REQUEST), `${JSON.stringify(request)}\n`, { mode: 0o644 });
    for (const name of [TARBALL, SIGNATURE, REQUEST]) fsyncPath(join(dir, name));
    fsyncPath(dir);
    renameSync(dir, stagedPath(updateDir));
    fsyncPath(updateDir);
  } catch (e: unknown) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Leftovers of a staging the agent did not finish (killed mid-way): removed at its start. */
export function removeStagingLeftovers(updateDir: string): void {
  if (!existsSync(updateDir)) return;
  for (const name of ['.staging-', '.incoming-download-']) {
    for (const entry of readdirSync(updateDir).filter((n) => n.startsWith(name))) rmSync(join(updateDir, entry), { recursive: true, force: true });
  }
}

/**
 * `regterm update apply-staged` (root, started by regterm-update.path): installs what the agent staged. Returns
 * undefined when nothing is staged. Any failure before the switch becomes a `failed` outcome for the agent to report.
 */
export async function applyStaged(o: { root: string; restart?: () => void; now?: () => number }): Promise<ApplyResult | undefined> {
  const updateDir = under(o.root, PATHS.updateDir);
  const staged = stagedPath(updateDir);
  if (!existsSync(staged)) return undefined;
  const releases = under(o.root, PATHS.releases);
  mkdirSync(releases, { recursive: true });
  // The same name as fetchRelease's downloads: apply's leftover cleanup leaves the tarball being applied alone.
  const own = mkdtempSync(join(releases, '.incoming-download-'));
  let request: StagedRequest | undefined;
  try {
    try {
      request = parseRequest(readSmall(join(staged, REQUEST)));
      const signature = parseSignature(readSmall(join(staged, SIGNATURE)));
      await copyRegularFile(join(staged, TARBALL), join(own, TARBALL));
      rmSync(staged, { recursive: true, force: true });
      return await applyRelease({ root: o.root, tarball: join(own, TARBALL), signature, expectSha256: request.sha256, restart: o.restart, now: o.now });
    } finally {
      rmSync(staged, { recursive: true, force: true });
      rmSync(own, { recursive: true, force: true });
    }
  } catch (e: unknown) {
    writeOutcome(updateDir, {
      result: 'failed', version: request?.version ?? '', previous: currentVersion(o.root) ?? '',
      reason: oneLine(errorMessage(e)), at: Math.floor((o.now ?? Date.now)() / 1000),
    });
    throw e;
  }
}

function parseRequest(text: string): StagedRequest {
  const r = JSON.parse(text) as Partial<StagedRequest>;
  if (typeof r.version !== 'string' || typeof r.nonce !== 'string' || typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) {
    throw new UpdateError('staged request.json is not { version, sha256, nonce }');
  }
  return { version: r.version, sha256: r.sha256, nonce: r.nonce };
}

/** A small regular file written by the agent: no link is followed (the agent must not make root read other files). */
function readSmall(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_SMALL_FILE) throw new UpdateError(`${path} is not a small regular file`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies a regular file (opened without following a link, read through that one descriptor) into a directory only
 * root can write, then fsyncs the copy: what is verified and unpacked afterwards can no longer change under it.
 */
async function copyRegularFile(from: string, to: string): Promise<void> {
  const fd = openSync(from, constants.O_RDONLY | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new UpdateError(`${from} is not a regular file`);
  }
  await pipeline(createReadStream('', { fd }), createWriteStream(to, { flags: 'wx', mode: 0o600 }));
  fsyncPath(to);
}

const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ').slice(0, 280);
