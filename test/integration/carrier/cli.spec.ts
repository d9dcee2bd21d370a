import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinKeys, readPublicKey } from '../../../src/carrier/keys.ts';
import { ResultOutbox } from '../../../src/carrier/outbox.ts';
import { RequestValidator } from '../../../src/carrier/request-validator.ts';
import { MemoryOutboxStore, MemoryStateStore } from '../../../src/carrier/store.ts';
import { createIdentity, loadIdentity, PUBLIC_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { decision } from '../../unit/carrier/helpers.ts';

/**
 * The carrier-side CLI end to end (real processes), and interoperability with an independent JOSE stack:
 * Debian's python3-jwt + python3-cryptography verify our results and sign requests our validator accepts.
 */
const run = promisify(execFile);
const REGTERM = join(import.meta.dirname, '..', '..', '..', 'bin', 'regterm.js');
const PYTHON = '/usr/bin/python3';
let dir = '';

async function regterm(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const p = run(process.execPath, [REGTERM, ...args], { encoding: 'utf8' });
    if (input !== undefined) p.child.stdin!.end(input);
    const { stdout, stderr } = await p;
    return { code: 0, stdout, stderr };
  } catch (e: unknown) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function deviceResult(sessionId: string) {
  const identity = await createIdentity(join(dir, `device-${sessionId}`));
  const outbox = new ResultOutbox({ deviceId: 'dev-1', identity, store: new MemoryOutboxStore(), state: new MemoryStateStore(),
    agentVersion: '0.1.0', modelsHash: 'm1', maxEntries: 10, now: () => 0 });
  const { jws } = await outbox.submit(decision(sessionId));
  const file = join(dir, `${sessionId}.jws`);
  writeFileSync(file, jws);
  return { file, jws, pub: join(dir, `device-${sessionId}`, PUBLIC_KEY_FILE), identityDir: join(dir, `device-${sessionId}`) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-cli-'));
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toFile(join(dir, 'ref.png'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('carrier CLI', () => {
  it('keygen writes a 0600 private key and prints the kid; request is accepted by the terminal validator', async () => {
    const kg = await regterm(['carrier', 'keygen', '--out', join(dir, 'carrier')]);
    expect(kg.code).toBe(0);
    expect(statSync(join(dir, 'carrier', 'carrier.key.pem')).mode & 0o777).toBe(0o600);
    const pub = readPublicKey(join(dir, 'carrier', 'carrier.pub.pem'));
    const pinned = await pinKeys([pub]);
    expect([...pinned.keys()]).toEqual([kg.stdout.trim()]);
    const rq = await regterm(['carrier', 'request', '--key', join(dir, 'carrier', 'carrier.key.pem'), '--device', 'dev-1',
      '--reference', join(dir, 'ref.png'), '--ttl', '60', '--session', 'cli-1']);
    expect(rq.code).toBe(0);
    const v = await new RequestValidator({ deviceId: 'dev-1', carrierKeys: pinned, state: new MemoryStateStore(),
      maxBytes: 1 << 20, maxTtlMs: 600_000, clockSkewMs: 30_000, now: Date.now }).validate(Buffer.from(rq.stdout));
    expect(v).toMatchObject({ ok: true, request: { sessionId: 'cli-1', deviceId: 'dev-1', reference: { format: 'png' } } });
    expect((await regterm(['carrier', 'keygen', '--out', join(dir, 'carrier')])).code).toBe(2);
  });

  it('bad input gives one line and exit 2, no stack trace', async () => {
    const r = await regterm(['carrier', 'request', '--key', join(dir, 'missing.pem'), '--device', 'dev-1', '--reference', 'x.jpg']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect((await regterm(['carrier', 'nonsense'])).code).toBe(2);
  });

  it('verify-result prints the payload of a valid result and exits 1 on a bad signature', async () => {
    const a = await deviceResult('vr-1');
    const ok = await regterm(['verify-result', '--key', a.pub, a.file]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, payload: { sessionId: 'vr-1', deviceId: 'dev-1' } });
    const viaStdin = await regterm(['verify-result', '--key', a.pub], a.jws);
    expect(viaStdin.code).toBe(0);
    const b = await deviceResult('vr-2');
    const wrongKey = await regterm(['verify-result', '--key', b.pub, a.file]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/INVALID/);
  });
});

describe('interoperability with python3-jwt + python3-cryptography', () => {
  const VERIFY = `
import json, sys, jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
key = load_pem_public_key(open(sys.argv[1], 'rb').read())
token = open(sys.argv[2]).read().strip()
try:
    print(json.dumps({"header": jwt.get_unverified_header(token), "payload": jwt.decode(token, key, algorithms=["EdDSA"])}))
except jwt.InvalidTokenError as e:
    print("invalid:", e); sys.exit(1)
`;
  const SIGN = `
import json, sys, jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
key = load_pem_private_key(open(sys.argv[1], 'rb').read(), password=None)
print(jwt.encode(json.loads(sys.argv[3]), key, algorithm="EdDSA", headers={"kid": sys.argv[2]}))
`;

  it('python verifies our result signature, header and payload; a tampered result fails there too', async () => {
    const a = await deviceResult('py-1');
    const { stdout } = await run(PYTHON, ['-c', VERIFY, a.pub, a.file]);
    const out = JSON.parse(stdout) as { header: Record<string, string>; payload: Record<string, unknown> };
    expect(out.header.alg).toBe('EdDSA');
    expect(out.header.kid).toBe((await loadIdentity(a.identityDir)).kid);
    expect(out.payload).toMatchObject({ ...decision('py-1'), deviceId: 'dev-1', seq: 1 });
    const [h, p, s] = a.jws.split('.');
    const forged = Buffer.from(Buffer.from(p!, 'base64url').toString().replace('"match"', '"no_match"')).toString('base64url');
    writeFileSync(join(dir, 'forged.jws'), `${h}.${forged}.${s}`);
    await expect(run(PYTHON, ['-c', VERIFY, a.pub, join(dir, 'forged.jws')])).rejects.toMatchObject({ code: 1 });
  });

  it('a request signed by python is accepted by our validator', async () => {
    await regterm(['carrier', 'keygen', '--out', join(dir, 'pycarrier')]);
    const pub = readPublicKey(join(dir, 'pycarrier', 'carrier.pub.pem'));
    const pinned = await pinKeys([pub]);
    const kid = [...pinned.keys()][0]!;
    const now = Date.now();
    const req = { v: 1, deviceId: 'dev-1', sessionId: 'py-req', nonce: 'abcdefghijklmnopqrstuv',
      issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 60_000).toISOString(),
      reference: { format: 'jpeg', data: readFileSync(join(dir, 'ref.png')).toString('base64') }, policy: {} };
    const { stdout } = await run(PYTHON, ['-c', SIGN, join(dir, 'pycarrier', 'carrier.key.pem'), kid, JSON.stringify(req)]);
    const v = await new RequestValidator({ deviceId: 'dev-1', carrierKeys: pinned, state: new MemoryStateStore(),
      maxBytes: 1 << 20, maxTtlMs: 600_000, clockSkewMs: 30_000, now: Date.now }).validate(Buffer.from(stdout.trim()));
    expect(v).toEqual({ ok: true, request: req });
  });
});
