import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-write.ts';
import { ID_PATTERN } from '../carrier/protocol.ts';
import { TRACE_VERSION, type SessionTrace } from './trace.ts';

/**
 * The terminal's recent session traces (trace.ts: numbers only), one file per session in `<stateDir>/traces/`,
 * 0600, written atomically after the session's result is committed. Bounded three ways, oldest removed first:
 * at most `keepSessions` files, none older than `keepDays`, at most `maxTotalBytes` together. A field engineer
 * reads one with `regterm trace SESSION_ID`; the carrier fetches one with a signed trace request.
 */
export interface TraceStoreLimits {
  keepSessions: number;
  keepDays: number;
  maxTotalBytes: number;
}

export const TRACE_DIR = 'traces';

export class TraceStore {
  readonly dir: string;

  constructor(stateDir: string, private readonly limits: TraceStoreLimits, private readonly now: () => number = Date.now) {
    this.dir = join(stateDir, TRACE_DIR);
  }

  /** Saves a session's trace and prunes; a sessionId that is not a valid id is refused (it names a file). */
  save(trace: SessionTrace & { sessionId: string }): void {
    if (!ID_PATTERN.test(trace.sessionId)) throw new RangeError(`not a session id: ${trace.sessionId.slice(0, 80)}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.path(trace.sessionId), JSON.stringify(trace), 0o600);
    this.prune();
  }

  /** The trace of a session, or undefined when none is kept (never kept, pruned, or not a session id). */
  load(sessionId: string): SessionTrace | undefined {
    if (!ID_PATTERN.test(sessionId)) return undefined;
    try {
      const trace = JSON.parse(readFileSync(this.path(sessionId), 'utf8')) as SessionTrace;
      return trace.v === TRACE_VERSION ? trace : undefined;
    } catch {
      return undefined;
    }
  }

  /** Kept sessions, newest first. */
  list(): Array<{ sessionId: string; savedAt: number; bytes: number }> {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    return names.map((n) => {
      const st = statSync(join(this.dir, n));
      return { sessionId: n.slice(0, -'.json'.length), savedAt: st.mtimeMs, bytes: st.size };
    }).sort((a, b) => b.savedAt - a.savedAt);
  }

  private prune(): void {
    const oldest = this.now() - this.limits.keepDays * 86_400_000;
    let total = 0;
    this.list().forEach((entry, i) => {
      total += entry.bytes;
      if (i >= this.limits.keepSessions || entry.savedAt < oldest || total > this.limits.maxTotalBytes) {
        rmSync(this.path(entry.sessionId), { force: true });
      }
    });
  }

  private path(sessionId: string): string {
    return join(this.dir, `${sessionId}.json`);
  }
}
