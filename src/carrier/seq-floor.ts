import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { writeFileAtomic } from '../lib/atomic-write.ts';

/**
 * The device's result sequence numbers (DESIGN §5: monotonic per device, persisted), kept in memory and reserved in
 * blocks in a small file outside the database, so that
 * - signing needs no database write: a rejection or a result can be signed while the disk is full;
 * - seq stays monotonic even when the database is lost (corrupt, moved aside).
 *
 * The file holds the highest seq this device may have handed out. A run starts above it (the rest of the previous
 * run's block is skipped: gaps are allowed) and reserves the next block before using it, a half block ahead, so a
 * disk that fills up leaves at least half a block to sign with. A reservation that cannot create the `.new` file
 * (ENOSPC) overwrites the existing file in place with a fixed-width record instead: that needs no new disk block.
 */
export const SEQ_BLOCK = 1000;
const RECORD_WIDTH = 20;

export class SeqCounter {
  private last: number;
  private reservedUpTo: number;

  private constructor(private readonly path: string, floor: number) {
    this.last = floor;
    this.reservedUpTo = floor;
  }

  /** Reads the floor (0 when the file does not exist yet) and tries to reserve the first block. */
  static load(path: string): SeqCounter {
    const text = existsSync(path) ? readFileSync(path, 'utf8').trim() : '0';
    const counter = new SeqCounter(path, /^\d+$/.test(text) ? Number(text) : 0);
    try {
      counter.reserve();
    } catch {
      // a full disk at start: next() tries again, and fails only if nothing was ever reserved
    }
    return counter;
  }

  /** The next seq; throws (with the file system's error) only when no reserved number is left. */
  next(): number {
    if (this.last + SEQ_BLOCK / 2 >= this.reservedUpTo) {
      try {
        this.reserve();
      } catch (e: unknown) {
        if (this.last >= this.reservedUpTo) throw e;
      }
    }
    return ++this.last;
  }

  private reserve(): void {
    const upTo = this.last + SEQ_BLOCK;
    const record = `${String(upTo).padStart(RECORD_WIDTH, '0')}\n`;
    try {
      writeFileAtomic(this.path, record);
    } catch (e: unknown) {
      if ((e as { code?: unknown }).code !== 'ENOSPC' || !existsSync(this.path)) throw e;
      overwriteInPlace(this.path, record);
    }
    this.reservedUpTo = upTo;
  }
}

function overwriteInPlace(path: string, record: string): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, record, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
