import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PATHS, under } from '../provision/layout.ts';
import { type ApplyResult, UpdateError, applyRelease } from './install.ts';
import { parseSignature } from './release-signature.ts';

/** A release fetched into a private directory (removed by `dispose`). */
export interface Fetched {
  tarball: string;
  signatureText: string;
  dispose: () => void;
}

const MAX_SIGNATURE_BYTES = 4096;
const MB = 1024 * 1024;

/**
 * What a download may take of the terminal's disk. A release tarball is ~90 MB (docs/release.md): `maxBytes` leaves
 * room for growth, and a server that sends more (a wrong URL, a compromised mirror, a missing Content-Length) is cut
 * off there instead of filling the card. `reserveBytes` stays free for the outbox, the journal and the install's
 * unpacking, which need the disk more than an update does.
 */
export interface DownloadLimits {
  maxBytes: number;
  reserveBytes: number;
}
export const DOWNLOAD_LIMITS: DownloadLimits = { maxBytes: 512 * MB, reserveBytes: 256 * MB };

const mb = (bytes: number): string => (bytes >= MB ? `${Math.ceil(bytes / MB)} MB` : `${Math.ceil(bytes / 1024)} KB`);

/** Refuse before writing a byte when the download (its Content-Length, else the cap) would eat into the reserve. */
function checkRoom(dir: string, declaredBytes: number | undefined, limits: DownloadLimits): void {
  if (declaredBytes !== undefined && declaredBytes > limits.maxBytes) {
    throw new UpdateError(`the release is ${mb(declaredBytes)}, more than the ${mb(limits.maxBytes)} a release may be`);
  }
  const { bavail, bsize } = statfsSync(dir);
  const free = Number(bavail) * Number(bsize);
  const need = (declaredBytes ?? limits.maxBytes) + limits.reserveBytes;
  if (free < need) {
    throw new UpdateError(`not enough free space in ${dir}: ${mb(free)} free, the download needs ${mb(need - limits.reserveBytes)} and ${mb(limits.reserveBytes)} must stay free`);
  }
}

/** Passes bytes through and fails the stream once more than `maxBytes` have gone by (a body longer than declared). */
function byteCap(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > maxBytes ? new UpdateError(`the download passed ${mb(maxBytes)}, more than a release may be; stopped`) : null, chunk);
    },
  });
}

/**
 * Downloads `url` and its detached signature (`sigUrl`, default `<url>.sig`) into a new directory under `parent`
 * (the releases directory: same file system, removed as a leftover if the process dies). http(s) only; the
 * signature check, not the transport, is what makes the file trusted. The download stays within `limits`: refused up
 * front when it would not fit, cut off when the body runs past the cap.
 */
export async function fetchRelease(url: string, parent: string, sigUrl = `${url}.sig`, limits = DOWNLOAD_LIMITS): Promise<Fetched> {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UpdateError(`update URL must be http(s) (got ${u.protocol})`);
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, '.incoming-download-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    const tarball = join(dir, basename(u.pathname) || 'release.tar.gz');
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new UpdateError(`GET ${url}: HTTP ${res.status}`);
    const length = res.headers.get('content-length');
    checkRoom(dir, length !== null && /^\d+$/.test(length) ? Number(length) : undefined, limits);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    await pipeline(body, byteCap(limits.maxBytes), createWriteStream(tarball, { flags: 'wx', mode: 0o600 }));
    const sig = await fetch(sigUrl);
    if (!sig.ok) throw new UpdateError(`GET ${sigUrl}: HTTP ${sig.status}`);
    const signatureText = await sig.text();
    if (signatureText.length > MAX_SIGNATURE_BYTES) throw new UpdateError(`${sigUrl} is ${signatureText.length} bytes, not a release signature`);
    return { tarball, signatureText, dispose };
  } catch (e: unknown) {
    dispose();
    throw e;
  }
}

/**
 * The carrier's update command (a URL and its sha256): download, verify, install, switch and restart, as
 * `regterm update apply URL --sha256 HEX` does. Must run with root's rights (it writes /opt/regterm and restarts the
 * unit), so the sandboxed agent hands the command to a privileged helper rather than calling this itself.
 */
export async function applyUpdateCommand(o: { root: string; url: string; sha256?: string; sigUrl?: string; deadlineS?: number; restart?: () => void }): Promise<ApplyResult> {
  const fetched = await fetchRelease(o.url, under(o.root, PATHS.releases), o.sigUrl);
  try {
    return await applyRelease({
      root: o.root, tarball: fetched.tarball, signature: parseSignature(fetched.signatureText), expectSha256: o.sha256,
      deadlineS: o.deadlineS, restart: o.restart,
    });
  } finally {
    fetched.dispose();
  }
}
