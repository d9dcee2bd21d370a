/**
 * A release download stays within its limits (src/device/update/download.ts): a server that declares or sends more
 * than a release may be, or a disk without room for it and the reserve, is refused with a clear error and leaves
 * nothing behind. A real HTTP server on loopback, a real file system.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRelease } from '../../../src/device/update/download.ts';
import { recordAttack } from '../../attacks/table.ts';

const KB = 1024;
const LIMITS = { maxBytes: 64 * KB, reserveBytes: 0 };
let http: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-download-'));
  http = createServer((req, res) => {
    const send = (bytes: number, chunked: boolean): void => {
      if (!chunked) res.setHeader('content-length', bytes);
      res.writeHead(200);
      // 4 KB chunks, as a slow mirror would stream them
      for (let sent = 0; sent < bytes; sent += 4 * KB) res.write(Buffer.alloc(Math.min(4 * KB, bytes - sent), 7));
      res.end();
    };
    if (req.url?.endsWith('.sig')) return void res.end('signature text');
    if (req.url === '/small.tar.gz') return send(16 * KB, false);
    if (req.url === '/declared-too-big.tar.gz') return send(128 * KB, false);
    if (req.url === '/chunked-too-big.tar.gz') return send(128 * KB, true);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => http.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const leftovers = (): string[] => readdirSync(dir);
/** The whole file system's size: a reserve no amount of free space can cover (the free space itself moves while other tests run). */
const fileSystemBytes = (): number => Number(statfsSync(tmpdir()).blocks) * Number(statfsSync(tmpdir()).bsize);

describe('fetchRelease limits', () => {
  it('downloads a release within the limits, with its signature', async () => {
    const fetched = await fetchRelease(`${base}/small.tar.gz`, dir, undefined, LIMITS);
    expect(readFileSync(fetched.tarball).length).toBe(16 * KB);
    expect(fetched.signatureText).toBe('signature text');
    fetched.dispose();
    expect(leftovers()).toEqual([]);
  });

  const refused: Array<[string, string, { maxBytes: number; reserveBytes: number }, RegExp]> = [
    ['a release declared larger than a release may be', 'declared-too-big', LIMITS, /^the release is 128 KB, more than the 64 KB a release may be$/],
    ['a body longer than the cap, without Content-Length', 'chunked-too-big', LIMITS, /^the download passed 64 KB, more than a release may be; stopped$/],
    ['a download that would eat into the free-space reserve', 'small',
      { maxBytes: 64 * KB, reserveBytes: fileSystemBytes() }, /^not enough free space in .+: \d+ MB free, the download needs 16 KB and \d+ MB must stay free$/],
  ];
  for (const [attack, name, limits, message] of refused) {
    it(`refuses ${attack}, and leaves nothing behind`, async () => {
      const error = await fetchRelease(`${base}/${name}.tar.gz`, dir, undefined, limits).then(() => undefined, (e: unknown) => e as Error);
      const left = leftovers();
      const expected = 'refused with its reason, nothing left';
      const observed = !error ? 'downloaded' : left.length > 0 ? `refused, left ${left.join(', ')}` : message.test(error.message) ? expected : `refused: ${error.message}`;
      recordAttack({ area: 'update command', attack, expected, observed });
      expect(error?.message).toMatch(message);
      expect(left).toEqual([]);
    });
  }
});
