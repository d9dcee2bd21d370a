import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAccount, planAccounts } from '../../../src/device/provision/accounts.ts';
import { TreeWriter } from '../../../src/device/provision/tree-writer.ts';
import { makeRoot } from '../../integration/provision/fixture-root.ts';

const PI_OS = {
  passwd: 'root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n',
  group: 'root:x:0:\nvideo:x:44:pi\ngpio:x:997:pi\npi:x:1000:\n',
};

describe('planAccounts', () => {
  it('uses the highest id free in both passwd and group, and the same number for uid and gid', () => {
    const plan = planAccounts(PI_OS);
    expect(plan.uid).toBe(999);
    expect(plan.gid).toBe(999);
    expect(plan.passwd).toContain('regterm:x:999:999:regterm agent:/var/lib/regterm:/usr/sbin/nologin\n');
    expect(plan.group).toContain('gpio:x:997:pi,regterm\n');
    expect(plan.group).toContain('video:x:44:pi,regterm\n');
    expect(plan.group).toContain('regterm:x:999:\n');
  });

  it('is a fixed point: planning the planned files changes nothing', () => {
    const once = planAccounts({ ...PI_OS, shadow: 'root:*:1::::::\n', gshadow: 'video:*::pi\n' });
    const twice = planAccounts(once);
    expect(twice).toEqual(once);
  });

  it('reuses an existing service group and takes another uid when its number is taken by a user', () => {
    const plan = planAccounts({ passwd: `${PI_OS.passwd}svc:x:990:0::/:/bin/false\n`, group: `${PI_OS.group}regterm:x:990:\n` });
    expect(plan.gid).toBe(990);
    expect(plan.uid).toBe(999);
    expect(plan.group.match(/^regterm:/gm)).toHaveLength(1);
  });

  it('keeps files without a trailing newline well-formed', () => {
    const plan = planAccounts({ passwd: 'root:x:0:0::/root:/bin/sh', group: 'root:x:0:' });
    expect(plan.passwd.split('\n')[1]).toMatch(/^regterm:x:/);
    expect(plan.group.split('\n').filter(Boolean)).toHaveLength(4); // root, regterm, video, gpio
  });
});

describe('ensureAccount on a live system (useradd)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs groupadd for a missing group and useradd once; a second call runs nothing', () => {
    dir = mkdtempSync(join(tmpdir(), 'regterm-accounts-'));
    const root = makeRoot(dir);
    const calls: string[][] = [];
    // stands in for the shadow tools: records the call and makes the effect useradd would have
    const run = (file: string, args: string[]) => {
      calls.push([file, ...args]);
      if (file === 'groupadd') appendFileSync(join(root, 'etc/group'), `${args[args.length - 1]}:x:900:\n`);
      if (file === 'useradd') {
        appendFileSync(join(root, 'etc/passwd'), 'regterm:x:901:901::/var/lib/regterm:/usr/sbin/nologin\n');
        const group = readFileSync(join(root, 'etc/group'), 'utf8').replace(/^(video|gpio):x:(\d+):(.*)$/gm, (_, g, id, m) => `${g}:x:${id}:${m ? `${m},` : ''}regterm`);
        writeFileSync(join(root, 'etc/group'), `${group}regterm:x:901:\n`);
      }
    };
    const writer = new TreeWriter({ root });
    expect(ensureAccount(root, writer, { run, live: true })).toEqual({ uid: 901, gid: 901 });
    expect(calls).toEqual([
      ['groupadd', '--system', 'gpio'],
      ['useradd', '--system', '--user-group', '--no-create-home', '--home-dir', '/var/lib/regterm', '--shell', '/usr/sbin/nologin',
        '--comment', 'regterm agent', '--groups', 'video,gpio', 'regterm'],
    ]);
    calls.length = 0;
    const again = new TreeWriter({ root });
    expect(ensureAccount(root, again, { run, live: true })).toEqual({ uid: 901, gid: 901 });
    expect(calls).toEqual([]);
    expect(again.changes).toEqual([]);
  });
});
