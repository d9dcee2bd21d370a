import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { RegtermError } from '../../lib/errors.ts';
import { PATHS, SERVICE_GROUPS, SERVICE_USER, under } from './layout.ts';
import type { TreeWriter } from './tree-writer.ts';

/**
 * The service user: a system account with no login shell and no password, in its own group plus video and gpio.
 * On an image root the account files are edited (entries appended once; uid/gid picked free below 1000, highest
 * first like useradd --system); on a live `/` useradd/groupadd/usermod do it, so nscd and file locking are honoured.
 */
export interface AccountFiles {
  passwd: string;
  group: string;
  shadow?: string;
  gshadow?: string;
}

export interface ServiceAccount {
  uid: number;
  gid: number;
}

const NOLOGIN = '/usr/sbin/nologin';
const SYSTEM_ID_MIN = 100;
const SYSTEM_ID_MAX = 999;

type Row = string[];

const rows = (text: string): Row[] => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l) => l.split(':'));
const find = (text: string, name: string): Row | undefined => rows(text).find((r) => r[0] === name);
const append = (text: string, line: string): string => `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;

/** The account as recorded in passwd/group text, if present. */
export function readAccount(files: Pick<AccountFiles, 'passwd'>, user = SERVICE_USER): ServiceAccount | undefined {
  const row = find(files.passwd, user);
  return row ? { uid: Number(row[2]), gid: Number(row[3]) } : undefined;
}

/** Members of `group` (4th field), or undefined when the group does not exist. */
export function groupMembers(groupText: string, group: string): string[] | undefined {
  const row = find(groupText, group);
  return row ? (row[3] ?? '').split(',').filter(Boolean) : undefined;
}

function freeId(used: ReadonlySet<number>): number {
  for (let id = SYSTEM_ID_MAX; id >= SYSTEM_ID_MIN; id--) if (!used.has(id)) return id;
  throw new RegtermError(`no free system id in ${SYSTEM_ID_MIN}..${SYSTEM_ID_MAX}`);
}

/** Adds `user` to the member list (4th field) of `group`'s line; no-op when already there. */
function addMember(text: string, group: string, user: string): string {
  return text.split('\n').map((line) => {
    const f = line.split(':');
    if (f[0] !== group || f.length < 4) return line;
    const members = f[3].split(',').filter(Boolean);
    if (members.includes(user)) return line;
    f[3] = [...members, user].join(',');
    return f.join(':');
  }).join('\n');
}

/** Pure: the account files with the service user, its group and its supplementary memberships present exactly once. */
export function planAccounts(files: AccountFiles, user = SERVICE_USER, extraGroups: readonly string[] = SERVICE_GROUPS): AccountFiles & ServiceAccount {
  let { passwd, group, shadow, gshadow } = files;
  const usedUids = new Set(rows(passwd).map((r) => Number(r[2])));
  const usedGids = new Set(rows(group).map((r) => Number(r[2])));
  const addGroup = (name: string, gid: number): void => {
    group = append(group, `${name}:x:${gid}:`);
    if (gshadow !== undefined) gshadow = append(gshadow, `${name}:!::`);
    usedGids.add(gid);
  };
  let account = readAccount({ passwd }, user);
  if (!account) {
    const own = find(group, user);
    const gid = own ? Number(own[2]) : freeId(new Set([...usedGids, ...usedUids]));
    const uid = usedUids.has(gid) ? freeId(usedUids) : gid;
    if (!own) addGroup(user, gid);
    passwd = append(passwd, `${user}:x:${uid}:${gid}:regterm agent:${PATHS.stateDir}:${NOLOGIN}`);
    if (shadow !== undefined && !find(shadow, user)) shadow = append(shadow, `${user}:!:::::::`);
    account = { uid, gid };
  }
  for (const name of extraGroups) {
    if (!find(group, name)) addGroup(name, freeId(usedGids));
    group = addMember(group, name, user);
    if (gshadow !== undefined) gshadow = addMember(gshadow, name, user);
  }
  return { passwd, group, shadow, gshadow, ...account };
}

export type RunCommand = (file: string, args: string[]) => void;

const runCommand: RunCommand = (file, args) => {
  execFileSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

export interface EnsureAccountOptions {
  run?: RunCommand;
  /** use useradd/groupadd/usermod instead of editing the files (default: root is `/` and useradd exists) */
  live?: boolean;
}

/** Makes the service account exist in the image at `root` (or on the live system for `/`) and returns its ids. */
export function ensureAccount(root: string, writer: TreeWriter, opts: EnsureAccountOptions = {}): ServiceAccount {
  const run = opts.run ?? runCommand;
  const live = opts.live ?? (resolve(root) === '/' && existsSync('/usr/sbin/useradd'));
  const etc = (name: string) => under(root, `/etc/${name}`);
  if (!existsSync(etc('passwd')) || !existsSync(etc('group'))) {
    throw new RegtermError(`${root} does not look like a root filesystem: ${etc('passwd')} or ${etc('group')} is missing`);
  }
  const read = (name: string) => (existsSync(etc(name)) ? readFileSync(etc(name), 'utf8') : undefined);
  const files: AccountFiles = { passwd: read('passwd') as string, group: read('group') as string, shadow: read('shadow'), gshadow: read('gshadow') };
  const plan = planAccounts(files);
  if (live) {
    const changed = plan.passwd !== files.passwd || plan.group !== files.group;
    for (const name of SERVICE_GROUPS) if (!groupMembers(files.group, name)) run('groupadd', ['--system', name]);
    if (!readAccount(files)) {
      run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', PATHS.stateDir, '--shell', NOLOGIN,
        '--comment', 'regterm agent', '--groups', SERVICE_GROUPS.join(','), SERVICE_USER]);
    } else if (SERVICE_GROUPS.some((g) => !groupMembers(files.group, g)?.includes(SERVICE_USER))) {
      run('usermod', ['--append', '--groups', SERVICE_GROUPS.join(','), SERVICE_USER]);
    }
    const account = readAccount({ passwd: readFileSync(etc('passwd'), 'utf8') });
    if (!account) throw new RegtermError(`useradd did not create ${SERVICE_USER}`);
    if (changed) writer.changes.push({ path: '/etc/passwd', action: 'updated' }, { path: '/etc/group', action: 'updated' });
    return account;
  }
  for (const name of ['passwd', 'group', 'shadow', 'gshadow'] as const) {
    const text = plan[name];
    if (text === undefined || text === files[name]) continue;
    const st = statSync(etc(name));
    writer.file(`/etc/${name}`, text, st.mode & 0o7777, { uid: st.uid, gid: st.gid });
  }
  return { uid: plan.uid, gid: plan.gid };
}
