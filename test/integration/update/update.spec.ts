import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAttack } from '../../attacks/table.ts';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { applyRelease, currentVersion, switchCurrent, verifyReleaseTree } from '../../../src/device/update/install.ts';
import { PROBATION_S, acknowledgeOutcome, readOutcome, readPending, settleTrial } from '../../../src/device/update/pending.ts';
import { parseSignature, readReleaseKeys, verifyRelease } from '../../../src/device/update/release-signature.ts';
import { TARGET, makeRelease, pinReleaseKey, releaseKey } from './fixture.ts';

const REPO = new URL('../../../', import.meta.url).pathname;
const CLI = join(REPO, 'bin', 'regterm.js');
const GUARD = join(REPO, 'scripts', 'update-guard');

const sigOf = (path: string) => parseSignature(readFileSync(`${path}.sig`, 'utf8'));
const errorOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'accepted', (e: unknown) => (e as Error).message);

describe('regterm update: signed release, side-by-side install, trial with automatic rollback', () => {
  let tmp: string;
  const key = releaseKey();
  const stranger = releaseKey();
  let v1: { tarball: string };
  let v2: { tarball: string };
  let v3: { tarball: string };

  /** A root with /opt/regterm/releases/0.1.0 current (as provisioning leaves it) and the release key pinned. */
  const freshRoot = async (name: string): Promise<string> => {
    const root = join(tmp, name);
    mkdirSync(join(root, PATHS.updateDir), { recursive: true });
    await pinReleaseKey(root, key.publicKey);
    await applyRelease({ root, tarball: v1.tarball, signature: sigOf(v1.tarball), restart: () => undefined });
    rmSync(join(root, PATHS.updateDir, 'pending')); // provisioning installs without a trial
    return root;
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'regterm-update-'));
    v1 = await makeRelease(tmp, '0.1.0', key.privateKey);
    v2 = await makeRelease(tmp, '0.2.0', key.privateKey);
    v3 = await makeRelease(tmp, '0.3.0', key.privateKey);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  describe('signatures', () => {
    it('verifies a signed tarball and rejects a flipped byte, an unpinned key, an edited signature and another sha256', async () => {
      const keys = await readReleaseKeys(join(await freshRoot('sig'), PATHS.releaseKeys));
      const sig = sigOf(v2.tarball);
      expect(await verifyRelease(v2.tarball, sig, keys)).toMatchObject({ version: '0.2.0', target: TARGET, sha256: sig.sha256 });

      const tampered = join(tmp, 'regterm-0.2.0-tampered.tar.gz');
      const bytes = readFileSync(v2.tarball);
      bytes[bytes.length >> 1] ^= 0x01;
      writeFileSync(tampered, bytes);
      const { signRelease } = await import('../../../src/device/update/release-signature.ts');
      const byStranger = await signRelease(v2.tarball, stranger.privateKey);
      const cases: [string, () => Promise<unknown>, RegExp][] = [
        ['one bit flipped in the tarball', () => verifyRelease(tampered, sig, keys), /has sha256 .* the signature says/],
        ['signed by a key that is not pinned', () => verifyRelease(v2.tarball, byStranger, keys), /not pinned/],
        ['signature JSON edited to version 0.9.0', () => verifyRelease(v2.tarball, { ...sig, version: '0.9.0', file: `regterm-0.9.0-${TARGET}.tar.gz` }, keys), /does not verify/],
        ['carrier command names another sha256', () => verifyRelease(v2.tarball, sig, keys, 'ab'.repeat(32)), /the update command says/],
      ];
      for (const [attack, run, want] of cases) {
        const observed = await errorOf(run());
        recordAttack({ area: 'update', attack, expected: 'rejected', observed: observed === 'accepted' ? 'accepted' : 'rejected' });
        expect(observed, attack).toMatch(want);
      }
    });

    it('regterm release keygen / sign / verify work as the operations team runs them', () => {
      const keys = join(tmp, 'ops-keys');
      const gen = spawnSync(process.execPath, [CLI, 'release', 'keygen', '--out', keys], { encoding: 'utf8' });
      expect(gen.status, gen.stderr).toBe(0);
      const kid = gen.stdout.trim();
      const copy = join(tmp, 'ops', `regterm-0.3.0-${TARGET}.tar.gz`);
      mkdirSync(join(tmp, 'ops'), { recursive: true });
      copyFileSync(v3.tarball, copy);
      const sign = spawnSync(process.execPath, [CLI, 'release', 'sign', copy, '--key', join(keys, 'release.key.pem')], { encoding: 'utf8' });
      expect(sign.status, sign.stderr).toBe(0);
      expect(sigOf(copy).kid).toBe(kid);
      const verify = spawnSync(process.execPath, [CLI, 'release', 'verify', copy, '--key', join(keys, 'release.pub.pem')], { encoding: 'utf8' });
      expect(verify.status, verify.stderr).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ version: '0.3.0', target: TARGET, kid });
      const wrong = spawnSync(process.execPath, [CLI, 'release', 'verify', copy, '--key', join(keys, 'release.pub.pem'), '--sig', `${v3.tarball}.sig`], { encoding: 'utf8' });
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toMatch(/not pinned/);
    });
  });

  describe('apply', () => {
    it('unpacks side by side, switches current, puts the new version on trial and restarts once', async () => {
      const root = await freshRoot('apply');
      let restarts = 0;
      const r = await applyRelease({ root, tarball: v2.tarball, signature: sigOf(v2.tarball), restart: () => { restarts++; }, now: () => 1_000_000_000 });
      expect(r).toMatchObject({ status: 'switched', version: '0.2.0', previous: '0.1.0' });
      expect(restarts).toBe(1);
      expect(readlinkSync(join(root, PATHS.current))).toBe('releases/0.2.0');
      expect(verifyReleaseTree(join(root, PATHS.releases, '0.2.0'), { version: '0.2.0', target: TARGET }).version).toBe('0.2.0');
      expect(readPending(join(root, PATHS.updateDir))).toEqual({ version: '0.2.0', previous: '0.1.0', deadline: 1_000_000 + 600, max_attempts: 3, attempts: 0, ready_at: 0 });

      // a second update while 0.2.0 is on trial is refused; once stable after READY it is confirmed and v3 goes in
      expect(await errorOf(applyRelease({ root, tarball: v3.tarball, signature: sigOf(v3.tarball), restart: () => undefined }))).toMatch(/still on trial/);
      const dir = join(root, PATHS.updateDir);
      writeFileSync(join(dir, 'pending'), readFileSync(join(dir, 'pending'), 'utf8').replace('ready_at=0', 'ready_at=1000000'));
      const r3 = await applyRelease({ root, tarball: v3.tarball, signature: sigOf(v3.tarball), restart: () => undefined, now: () => (1_000_000 + PROBATION_S) * 1000 });
      expect(r3.settled).toMatchObject({ result: 'confirmed', version: '0.2.0' });
      expect(r3).toMatchObject({ status: 'switched', version: '0.3.0', previous: '0.2.0', removed: ['0.1.0'] }); // the new one and the way back
      expect(readdirSync(join(root, PATHS.releases)).sort()).toEqual(['0.2.0', '0.3.0']);
    });

    it('regterm update apply URL --sha256 (the carrier command\'s form) downloads the tarball and its .sig, then switches', async () => {
      const root = await freshRoot('url');
      const files = new Map([[`/r/${v2.tarball.split('/').pop()}`, readFileSync(v2.tarball)], [`/r/${v2.tarball.split('/').pop()}.sig`, readFileSync(`${v2.tarball}.sig`)]]);
      const server = createServer((req, res) => {
        const body = files.get(req.url ?? '');
        res.writeHead(body ? 200 : 404).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/r/${v2.tarball.split('/').pop()}`;
      const cli = (args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'update', 'apply', ...args, '--root', root, '--no-restart', '--json']);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
        child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        child.on('exit', (status) => resolve({ status, stdout, stderr }));
      });
      try {
        const wrong = await cli([url, '--sha256', 'cd'.repeat(32)]);
        recordAttack({ area: 'update', attack: 'update command: URL with another sha256', expected: 'refused, current 0.1.0', observed: `${wrong.status === 0 ? 'accepted' : 'refused'}, current ${currentVersion(root)}` });
        expect(wrong.status).toBe(1);
        expect(wrong.stderr).toMatch(/the update command says/);
        const missing = await cli([`${url}.nope`]);
        expect(missing.stderr).toMatch(/HTTP 404/);
        const ok = await cli([url, '--sha256', sigOf(v2.tarball).sha256]);
        expect(ok.status, ok.stderr).toBe(0);
        expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'switched', version: '0.2.0', previous: '0.1.0' });
        expect(readdirSync(join(root, PATHS.releases)).sort()).toEqual(['0.1.0', '0.2.0']); // the download is gone too
      } finally {
        server.close();
      }
    });

    it('refuses a release for another CPU and a signed tarball whose tree does not match its RELEASE.json, leaving nothing behind', async () => {
      const root = await freshRoot('refuse');
      const other = TARGET === 'linux-x64' ? 'linux-arm64' : 'linux-x64';
      const foreign = await errorOf(applyRelease({ root, tarball: v2.tarball, signature: sigOf(v2.tarball), target: other, restart: () => undefined }));
      recordAttack({ area: 'update', attack: `signed ${TARGET} release on a ${other} terminal`, expected: 'refused', observed: foreign === 'accepted' ? 'accepted' : 'refused' });
      expect(foreign).toMatch(/is for linux-/);

      // a build bug (or a key that signs anything): RELEASE.json lists a file the tarball does not carry
      const bad = join(tmp, 'bad');
      const stage = join(bad, 'regterm-0.4.0');
      mkdirSync(stage, { recursive: true });
      writeFileSync(join(stage, 'regterm'), '#!/bin/sh\n', { mode: 0o755 });
      writeFileSync(join(stage, 'RELEASE.json'), JSON.stringify({ name: 'regterm', version: '0.4.0', target: TARGET, files: { regterm: 'ab'.repeat(32), 'dist/regterm.mjs': 'cd'.repeat(32) } }));
      const { packTarball } = await import('../../../scripts/release-target.ts');
      const { signRelease } = await import('../../../src/device/update/release-signature.ts');
      const tarball = packTarball(stage, '0.4.0', TARGET, bad);
      const observed = await errorOf(applyRelease({ root, tarball, signature: await signRelease(tarball, key.privateKey), restart: () => undefined }));
      recordAttack({ area: 'update', attack: 'signed tarball, tree differs from its RELEASE.json', expected: 'refused, current 0.1.0', observed: `${observed === 'accepted' ? 'accepted' : 'refused'}, current ${currentVersion(root)}` });
      expect(observed).toMatch(/does not match RELEASE.json/);
      expect(currentVersion(root)).toBe('0.1.0');
      expect(readdirSync(join(root, PATHS.releases))).toEqual(['0.1.0']);
      expect(readPending(join(root, PATHS.updateDir))).toBeUndefined();
    });
  });

  /**
   * One start of the unit as systemd runs it (systemd/regterm.service): ExecStartPre=+update-guard start, then
   * ExecStart=/opt/regterm/current/regterm (resolved after the guard ran), then, once READY=1 arrived (here: printed
   * by the test release's launcher), ExecStartPost=+update-guard ready. No READY within `timeoutMs` = TimeoutStartSec.
   */
  const startUnit = async (root: string, nowS: number, timeoutMs = 3000): Promise<{ ran: string; ready: boolean }> => {
    const env = { ...process.env, REGTERM_GUARD_ROOT: root, REGTERM_GUARD_NOW: String(nowS) };
    expect(spawnSync(GUARD, ['start'], { env }).status).toBe(0);
    const ran = currentVersion(root) as string;
    const child = spawn(join(root, PATHS.current, 'regterm'), [], { stdio: ['ignore', 'pipe', 'ignore'] });
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('READY=1')) { clearTimeout(timer); resolve(true); } });
      child.on('exit', () => { clearTimeout(timer); resolve(false); });
    });
    if (ready) expect(spawnSync(GUARD, ['ready'], { env }).status).toBe(0);
    child.kill('SIGKILL');
    return { ran, ready };
  };
  const trialRoot = async (name: string, behaviour: 'ready' | 'crash' | 'hang', t0: number): Promise<string> => {
    const root = await freshRoot(name);
    const rel = await makeRelease(join(tmp, name), '0.2.0', key.privateKey, { behaviour });
    await applyRelease({ root, tarball: rel.tarball, signature: sigOf(rel.tarball), restart: () => undefined, now: () => t0 * 1000 });
    return root;
  };
  const T0 = 2_000_000_000;

  describe('trial (scripts/update-guard, as the unit runs it)', () => {
    it('a version that reaches READY and stays up is confirmed at its next start, and the outcome is left for the carrier', async () => {
      const root = await trialRoot('trial-good', 'ready', T0);
      expect(await startUnit(root, T0 + 5)).toEqual({ ran: '0.2.0', ready: true });
      expect(readPending(join(root, PATHS.updateDir))).toMatchObject({ attempts: 1, ready_at: T0 + 5 });
      expect(await startUnit(root, T0 + 5 + PROBATION_S + 1)).toEqual({ ran: '0.2.0', ready: true });
      expect(readOutcome(join(root, PATHS.updateDir))).toMatchObject({ result: 'confirmed', version: '0.2.0', previous: '0.1.0' });
      expect(readPending(join(root, PATHS.updateDir))).toBeUndefined();
      const status = spawnSync(process.execPath, [CLI, 'update', 'status', '--root', root, '--json'], { encoding: 'utf8' });
      expect(status.status, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ current: '0.2.0', releases: ['0.1.0', '0.2.0'], outcome: { result: 'confirmed', version: '0.2.0' } });
      acknowledgeOutcome(join(root, PATHS.updateDir)); // the carrier got it
      expect(readOutcome(join(root, PATHS.updateDir))).toBeUndefined();
    });

    it('the agent confirms a trial itself once it has been READY for the probation time (settleTrial)', async () => {
      const root = await trialRoot('trial-settle', 'ready', T0);
      await startUnit(root, T0 + 1);
      const dir = join(root, PATHS.updateDir);
      expect(settleTrial(dir, '0.2.0', T0 + 1 + PROBATION_S - 1)).toBeUndefined();
      expect(settleTrial(dir, '0.1.0', T0 + 1 + PROBATION_S)).toBeUndefined(); // not the version on trial
      expect(settleTrial(dir, '0.2.0', T0 + 1 + PROBATION_S)).toMatchObject({ result: 'confirmed', version: '0.2.0' });
      expect(readPending(dir)).toBeUndefined();
    });

    const rollbacks: [string, 'crash' | 'hang' | 'ready', (n: number) => number, number, RegExp][] = [
      ['crashes at every start', 'crash', (n) => T0 + n * 3, 4, /3 starts without a stable run/],
      ['reaches READY, then restarts again and again within the probation time', 'ready', (n) => T0 + n * 10, 4, /3 starts without a stable run/],
      ['hangs before READY until the deadline passed', 'hang', (n) => T0 + n * 400, 2, /no READY before the deadline/],
    ];
    for (const [what, behaviour, clock, starts, reason] of rollbacks) {
      it(`rolls back by itself when the new version ${what}, and reports it`, async () => {
        const root = await trialRoot(`trial-${behaviour}-${starts}`, behaviour, T0);
        const runs: { ran: string; ready: boolean }[] = [];
        for (let n = 1; n <= starts; n++) runs.push(await startUnit(root, clock(n), behaviour === 'hang' ? 500 : 3000));
        expect(runs.slice(0, -1).every((r) => r.ran === '0.2.0')).toBe(true);
        const last = runs[runs.length - 1];
        recordAttack({ area: 'update', attack: `new release ${what}`, expected: 'rolled-back to 0.1.0, READY', observed: `${readOutcome(join(root, PATHS.updateDir))?.result ?? 'no outcome'} to ${last.ran}, ${last.ready ? 'READY' : 'not ready'}` });
        expect(last).toEqual({ ran: '0.1.0', ready: true }); // the start that rolled back runs the previous release
        expect(readlinkSync(join(root, PATHS.current))).toBe('releases/0.1.0');
        expect(readOutcome(join(root, PATHS.updateDir))).toMatchObject({ result: 'rolled-back', version: '0.2.0', previous: '0.1.0', reason: expect.stringMatching(reason) });
        expect(readPending(join(root, PATHS.updateDir))).toBeUndefined();
        expect(await startUnit(root, clock(starts + 1))).toEqual({ ran: '0.1.0', ready: true }); // and stays there
      });
    }

    it('ends a trial whose switch never happened (apply killed after the marker) as failed, without touching current', async () => {
      const root = await trialRoot('trial-unswitched', 'ready', T0);
      switchCurrent(root, '0.1.0'); // as if the kill came between the marker and the switch
      expect(await startUnit(root, T0 + 1)).toEqual({ ran: '0.1.0', ready: true });
      expect(readOutcome(join(root, PATHS.updateDir))).toMatchObject({ result: 'failed', reason: 'current is releases/0.1.0, not releases/0.2.0' });
    });
  });

  /**
   * The invariant an update must keep whatever happens: `current` links to a release whose every file matches its
   * RELEASE.json, a releases/<version> name is always a complete release, and anything else is an apply's leftover.
   */
  const assertNeverHalfWritten = (root: string): { current: string; leftovers: number } => {
    const current = currentVersion(root) as string;
    verifyReleaseTree(join(root, PATHS.current), { version: current });
    let leftovers = 0;
    for (const name of readdirSync(join(root, PATHS.releases))) {
      if (name.startsWith('.incoming-') || name.startsWith('.trash-')) leftovers++;
      else verifyReleaseTree(join(root, PATHS.releases, name), { version: name });
    }
    return { current, leftovers };
  };

  describe('durability', () => {
    it('SIGKILL at any point of `regterm update apply` never leaves a half-written tree; the next apply completes', async () => {
      const big = await makeRelease(join(tmp, 'kill'), '0.2.0', key.privateKey, { payloadBytes: 48 << 20 });
      const root = await freshRoot('kill-root');
      const args = [CLI, 'update', 'apply', big.tarball, '--root', root, '--no-restart'];
      const reset = () => { // back to 0.1.0 current, 0.2.0 gone, as before the update
        switchCurrent(root, '0.1.0');
        rmSync(join(root, PATHS.updateDir, 'pending'), { force: true });
        rmSync(join(root, PATHS.releases, '0.2.0'), { recursive: true, force: true });
      };
      const seen = { beforeSwitch: 0, afterSwitch: 0, midUnpack: 0 };
      const t0 = Date.now();
      const full = spawnSync(process.execPath, args, { encoding: 'utf8' });
      expect(full.status, full.stderr).toBe(0);
      const fullMs = Date.now() - t0;
      reset();
      for (let i = 0; i < 12; i++) {
        const child = spawn(process.execPath, args, { stdio: 'ignore' });
        const exited = new Promise((resolve) => child.on('exit', resolve));
        if (i % 2 === 0) {
          // wait until the unpack has begun writing, then kill a little later (0-150 ms): mid-unpack or mid-verify
          const started = Date.now();
          while (Date.now() - started < 20_000 && !readdirSync(join(root, PATHS.releases)).some((n) => n.startsWith('.incoming-'))) await new Promise((r) => setTimeout(r, 2));
          await new Promise((r) => setTimeout(r, (i * 13) % 150));
        } else {
          // spread from CLI start-up to well past the end (a loaded machine runs later applies slower than the first)
          await new Promise((r) => setTimeout(r, (fullMs * i) / 4));
        }
        child.kill('SIGKILL');
        await exited;
        const state = assertNeverHalfWritten(root);
        if (state.leftovers > 0) seen.midUnpack++;
        if (state.current === '0.2.0') seen.afterSwitch++;
        else seen.beforeSwitch++;
        reset();
      }
      recordAttack({ area: 'durability', attack: `SIGKILL during update apply x12 (${seen.midUnpack} mid-unpack, ${seen.afterSwitch} after the switch)`, expected: 'current always a complete release', observed: 'current always a complete release' });
      expect(seen.midUnpack).toBeGreaterThan(0);
      expect(seen.beforeSwitch).toBeGreaterThan(0);
      expect(seen.afterSwitch).toBeGreaterThan(0);
      const done = spawnSync(process.execPath, args, { encoding: 'utf8' });
      expect(done.status, done.stderr).toBe(0);
      expect(assertNeverHalfWritten(root)).toEqual({ current: '0.2.0', leftovers: 0 }); // leftovers of the kills removed
    }, 300_000); // about ten times one apply, each a CLI start-up and a 48 MB verify: minutes on a loaded machine

    it('a full disk during the unpack or at the marker fails the update cleanly: current untouched, nothing left over', async () => {
      const root = join(tmp, 'full');
      const opt = join(root, 'opt');
      const state = join(root, 'var', 'lib', 'regterm');
      mkdirSync(opt, { recursive: true });
      mkdirSync(state, { recursive: true });
      const mounted: string[] = [];
      const mount = (dir: string, size: string) => {
        const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
        expect(r.status, `mount tmpfs (needs root): ${r.stderr}`).toBe(0);
        mounted.push(dir);
      };
      try {
        mount(opt, '12m');
        const small = await makeRelease(join(tmp, 'full-rel'), '0.1.0', key.privateKey, { payloadBytes: 5 << 20 });
        const next = await makeRelease(join(tmp, 'full-rel'), '0.2.0', key.privateKey, { payloadBytes: 8 << 20 });
        mkdirSync(join(root, PATHS.updateDir), { recursive: true });
        await pinReleaseKey(root, key.publicKey);
        await applyRelease({ root, tarball: small.tarball, signature: sigOf(small.tarball), restart: () => undefined });
        rmSync(join(root, PATHS.updateDir, 'pending'));

        // 5 MB installed + 8 MB more does not fit in 12 MB: tar fails with ENOSPC mid-unpack
        const unpack = await errorOf(applyRelease({ root, tarball: next.tarball, signature: sigOf(next.tarball), restart: () => { throw new Error('must not restart'); } }));
        const s1 = assertNeverHalfWritten(root);
        recordAttack({ area: 'durability', attack: 'disk full while unpacking an update', expected: 'refused, current 0.1.0, 0 leftovers', observed: `${unpack === 'accepted' ? 'accepted' : 'refused'}, current ${s1.current}, ${s1.leftovers} leftovers` });
        expect(unpack).toMatch(/unpacking 0.2.0 failed: .*No space left on device/s);
        expect(s1).toEqual({ current: '0.1.0', leftovers: 0 });
        expect(readPending(join(root, PATHS.updateDir))).toBeUndefined();

        // room for the release, but the state directory is full: the trial marker cannot be written, so no switch
        spawnSync('umount', [opt]);
        mounted.pop();
        rmSync(join(root, 'opt'), { recursive: true, force: true });
        mkdirSync(opt, { recursive: true });
        await applyRelease({ root, tarball: small.tarball, signature: sigOf(small.tarball), restart: () => undefined });
        rmSync(join(root, PATHS.updateDir, 'pending'));
        mount(state, '64k');
        mkdirSync(join(root, PATHS.updateDir), { recursive: true });
        spawnSync('dd', ['if=/dev/zero', `of=${join(state, 'filler')}`, 'bs=4k', 'count=1000'], { stdio: 'ignore' }); // fills it
        const marker = await errorOf(applyRelease({ root, tarball: next.tarball, signature: sigOf(next.tarball), restart: () => { throw new Error('must not restart'); } }));
        const s2 = assertNeverHalfWritten(root);
        recordAttack({ area: 'durability', attack: 'disk full at the update trial marker', expected: 'refused, current 0.1.0', observed: `${marker === 'accepted' ? 'accepted' : 'refused'}, current ${s2.current}` });
        expect(marker).toMatch(/ENOSPC|No space left/);
        expect(s2.current).toBe('0.1.0');
      } finally {
        for (const dir of mounted.reverse()) spawnSync('umount', [dir]);
      }
    });
  });
});
