import {
  closeSync, copyFileSync, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, readdirSync,
  readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeSync, type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncPath } from '../../lib/atomic-write.ts';
import { under } from './layout.ts';

export interface Owner {
  uid: number;
  gid: number;
}

/** Changes a file's owner (fs.lchownSync when provisioning runs as root); absent = ownership is left alone. */
export type Chown = (path: string, uid: number, gid: number) => void;

export interface Change {
  /** device path (as on the terminal, not under the image root) */
  path: string;
  action: 'created' | 'updated' | 'mode' | 'owner' | 'removed';
}

export interface TreeWriterOptions {
  root: string;
  chown?: Chown;
}

/**
 * Converges files under an image root to a wanted state and records every change, so a second run with the same
 * inputs reports (and does) nothing. Paths are device paths (`/etc/regterm/...`), mapped under `root`.
 *
 * INVARIANTS: content is replaced only through `<path>.new` (mode and owner set before it is written, fsynced,
 * renamed, directory fsynced), so a power cut leaves the old or the new file and a key is never readable by anyone
 * else, even briefly. Existing content is never rewritten when it is already equal.
 */
export class TreeWriter {
  readonly changes: Change[] = [];
  private readonly opts: TreeWriterOptions;

  constructor(opts: TreeWriterOptions) {
    this.opts = opts;
  }

  get chownsSkipped(): boolean {
    return this.opts.chown === undefined;
  }

  host(path: string): string {
    return under(this.opts.root, path);
  }

  exists(path: string): boolean {
    return lstatOrUndefined(this.host(path)) !== undefined;
  }

  dir(path: string, mode: number, owner?: Owner): void {
    const p = this.host(path);
    const st = lstatOrUndefined(p);
    if (st && !st.isDirectory()) throw new Error(`${p} exists and is not a directory`);
    if (!st) mkdirSync(p, { recursive: true });
    this.fixMeta(path, mode, owner, !st);
    if (!st) this.changes.push({ path, action: 'created' });
  }

  /** Makes `path` hold exactly `data`; returns whether the content changed. */
  file(path: string, data: string | Uint8Array, mode: number, owner?: Owner): boolean {
    const p = this.host(path);
    const want = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    const st = lstatOrUndefined(p);
    if (st && st.isFile() && st.size === want.length && sameBytes(p, want)) {
      this.fixMeta(path, mode, owner);
      return false;
    }
    this.writeNew(p, mode, owner, (fd) => {
      let off = 0;
      while (off < want.length) off += writeSync(fd, want, off, want.length - off);
    });
    this.changes.push({ path, action: st ? 'updated' : 'created' });
    return true;
  }

  /** Creates `path` from `make()` only when it does not exist (keys: never regenerated); fixes mode and owner. */
  fileOnce(path: string, make: () => string | Uint8Array, mode: number, owner?: Owner): boolean {
    if (this.exists(path)) {
      this.fixMeta(path, mode, owner);
      return false;
    }
    return this.file(path, make(), mode, owner);
  }

  /** Removes a file that should no longer be there (a carrier key dropped from the pinned set). */
  remove(path: string): void {
    const p = this.host(path);
    if (!lstatOrUndefined(p)) return;
    rmSync(p, { force: true });
    fsyncPath(dirname(p));
    this.changes.push({ path, action: 'removed' });
  }

  /** An absolute symlink, like `systemctl enable` makes. */
  symlink(path: string, target: string): void {
    const p = this.host(path);
    const st = lstatOrUndefined(p);
    if (st?.isSymbolicLink() && readlinkSync(p) === target) return;
    mkdirSync(dirname(p), { recursive: true });
    const tmp = `${p}.new`;
    rmSync(tmp, { force: true });
    symlinkSync(target, tmp);
    renameSync(tmp, p);
    fsyncPath(dirname(p));
    this.changes.push({ path, action: st ? 'updated' : 'created' });
  }

  /**
   * Mirrors the host directory `src` into device path `dest`: equal files are left alone, others replaced atomically
   * one by one, entries missing from `src` are removed (an upgrade leaves no stale files) except the top-level
   * names in `keep` (state installed in place, like node_modules). Modes: 0755 for directories and executables,
   * 0644 otherwise.
   */
  mirror(src: string, dest: string, owner?: Owner, keep: readonly string[] = []): void {
    this.dir(dest, 0o755, owner);
    const wanted = new Set(readdirSync(src));
    for (const name of readdirSync(this.host(dest))) {
      if (!wanted.has(name) && !keep.includes(name)) {
        rmSync(join(this.host(dest), name), { recursive: true, force: true });
        this.changes.push({ path: join(dest, name), action: 'removed' });
      }
    }
    let copied = false;
    for (const name of [...wanted].sort()) {
      const from = join(src, name);
      const to = join(dest, name);
      const st = lstatSync(from);
      if (st.isSymbolicLink()) this.symlink(to, readlinkSync(from));
      else if (st.isDirectory()) this.mirror(from, to, owner);
      else copied = this.copy(from, to, st.mode & 0o111 ? 0o755 : 0o644, owner) || copied;
    }
    // one directory fsync for all the renames in it (a release holds ~1200 files; per file it doubles the syncs)
    if (copied) fsyncPath(this.host(dest));
  }

  /** One file of a mirror; returns whether it was replaced (then its directory still needs an fsync). */
  private copy(from: string, path: string, mode: number, owner?: Owner): boolean {
    const p = this.host(path);
    const st = lstatOrUndefined(p);
    if (st && st.isFile() && st.size === statSync(from).size && sameFiles(from, p)) {
      this.fixMeta(path, mode, owner);
      return false;
    }
    const tmp = `${p}.new`;
    rmSync(tmp, { force: true });
    copyFileSync(from, tmp);
    this.writeNew(p, mode, owner, () => undefined, tmp, false);
    this.changes.push({ path, action: st ? 'updated' : 'created' });
    return true;
  }

  /** `.new` with mode and owner set first, filled by `fill`, fsynced, renamed over `p`, directory fsynced (unless the caller batches it). */
  private writeNew(p: string, mode: number, owner: Owner | undefined, fill: (fd: number) => void, existingTmp?: string, syncDir = true): void {
    mkdirSync(dirname(p), { recursive: true });
    const tmp = existingTmp ?? `${p}.new`;
    if (!existingTmp) rmSync(tmp, { force: true });
    const fd = openSync(tmp, existingTmp ? 'r+' : 'wx', 0o600);
    try {
      fchmodSync(fd, mode);
      if (owner && this.opts.chown) this.opts.chown(tmp, owner.uid, owner.gid);
      fill(fd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, p);
    if (syncDir) fsyncPath(dirname(p));
  }

  /** Sets mode and owner where they differ; `quiet` for an entry just created (already reported as created). */
  private fixMeta(path: string, mode: number, owner?: Owner, quiet = false): void {
    const p = this.host(path);
    const st = lstatSync(p);
    if ((st.mode & 0o7777) !== mode) {
      const fd = openSync(p, 'r');
      try {
        fchmodSync(fd, mode);
      } finally {
        closeSync(fd);
      }
      if (!quiet) this.changes.push({ path, action: 'mode' });
    }
    if (owner && this.opts.chown && (st.uid !== owner.uid || st.gid !== owner.gid)) {
      this.opts.chown(p, owner.uid, owner.gid);
      if (!quiet) this.changes.push({ path, action: 'owner' });
    }
  }
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const CHUNK = 1 << 20;

function sameBytes(p: string, want: Buffer): boolean {
  const fd = openSync(p, 'r');
  try {
    const buf = Buffer.alloc(Math.min(CHUNK, want.length));
    for (let off = 0; off < want.length;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, want.length - off), off);
      if (n <= 0 || !buf.subarray(0, n).equals(want.subarray(off, off + n))) return false;
      off += n;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

function sameFiles(a: string, b: string): boolean {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const ba = Buffer.alloc(CHUNK);
    const bb = Buffer.alloc(CHUNK);
    for (let off = 0; ;) {
      const na = readSync(fa, ba, 0, CHUNK, off);
      const nb = readSync(fb, bb, 0, CHUNK, off);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
      off += na;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}
