import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UpdateError } from './install.ts';

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
