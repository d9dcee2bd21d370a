import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
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

/**
 * Downloads `url` and its detached signature (`sigUrl`, default `<url>.sig`) into a new directory under `parent`
 * (the releases directory: same file system, removed as a leftover if the process dies). http(s) only; the
 * signature check, not the transport, is what makes the file trusted.
 */
export async function fetchRelease(url: string, parent: string, sigUrl = `${url}.sig`): Promise<Fetched> {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UpdateError(`update URL must be http(s) (got ${u.protocol})`);
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, '.incoming-download-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    const tarball = join(dir, basename(u.pathname) || 'release.tar.gz');
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new UpdateError(`GET ${url}: HTTP ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(tarball, { flags: 'wx', mode: 0o600 }));
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
