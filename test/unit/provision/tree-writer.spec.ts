import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TreeWriter } from '../../../src/device/provision/tree-writer.ts';

describe('TreeWriter', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'regterm-tree-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes through .new with the final mode, reports it once, and leaves no temporary file', () => {
    const w = new TreeWriter({ root });
    expect(w.file('/etc/x/secret', 'k1', 0o600)).toBe(true);
    expect(statSync(join(root, 'etc/x/secret')).mode & 0o7777).toBe(0o600);
    expect(readdirSync(join(root, 'etc/x'))).toEqual(['secret']);
    expect(w.file('/etc/x/secret', 'k1', 0o600)).toBe(false);
    expect(w.file('/etc/x/secret', 'k2', 0o600)).toBe(true);
    expect(w.changes).toEqual([{ path: '/etc/x/secret', action: 'created' }, { path: '/etc/x/secret', action: 'updated' }]);
  });

  it('fileOnce never replaces existing content, only its mode', () => {
    const w = new TreeWriter({ root });
    w.fileOnce('/k', () => 'first', 0o600);
    w.fileOnce('/k', () => 'second', 0o640);
    expect(readFileSync(join(root, 'k'), 'utf8')).toBe('first');
    expect(w.changes.map((c) => c.action)).toEqual(['created', 'mode']);
  });

  it('mirror copies new and changed files, keeps equal ones, and removes what the source no longer has', () => {
    const src = join(root, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a'), 'A');
    writeFileSync(join(src, 'sub', 'b'), 'B', { mode: 0o755 });
    const w = new TreeWriter({ root });
    w.mirror(src, '/opt/app');
    expect(statSync(join(root, 'opt/app/sub/b')).mode & 0o777).toBe(0o755);
    const w2 = new TreeWriter({ root });
    writeFileSync(join(root, 'opt/app/stale'), 'old');
    writeFileSync(join(src, 'a'), 'A2');
    w2.mirror(src, '/opt/app');
    expect(w2.changes).toEqual([{ path: '/opt/app/stale', action: 'removed' }, { path: '/opt/app/a', action: 'updated' }]);
    expect(existsSync(join(root, 'opt/app/stale'))).toBe(false);
    expect(readFileSync(join(root, 'opt/app/a'), 'utf8')).toBe('A2');
    mkdirSync(join(root, 'opt/app/node_modules'));
    const w3 = new TreeWriter({ root });
    w3.mirror(src, '/opt/app', undefined, ['node_modules']);
    expect(existsSync(join(root, 'opt/app/node_modules'))).toBe(true);
    expect(w3.changes).toEqual([]);
  });

  it('records owner changes only when it may chown', () => {
    const owned: string[] = [];
    const w = new TreeWriter({ root, chown: (p, uid, gid) => owned.push(`${p} ${uid}:${gid}`) });
    w.file('/f', 'x', 0o644, { uid: 4242, gid: 4242 });
    expect(owned).toEqual([`${join(root, 'f')}.new 4242:4242`]); // set on the temporary file, before the content
    // the recording stand-in leaves the owner as it was, so the next pass sees the drift and fixes it in place
    w.file('/f', 'x', 0o644, { uid: 4242, gid: 4242 });
    expect(owned).toEqual([`${join(root, 'f')}.new 4242:4242`, `${join(root, 'f')} 4242:4242`]);
    expect(w.changes).toEqual([{ path: '/f', action: 'created' }, { path: '/f', action: 'owner' }]);
    expect(new TreeWriter({ root }).chownsSkipped).toBe(true);
  });
});
