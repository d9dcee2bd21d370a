import type { Writable } from 'node:stream';

/**
 * Progress of a long CLI run (`regterm eval ...`) on stderr: `label  done/total (pct)  ETA m:ss`, redrawn in place
 * on a terminal at most every REDRAW_MS. Off a terminal (a pipe, CI, a log file) it prints nothing: redraws would
 * only fill the log. Notes (a skipped file, a clip's summary) are printed either way, on their own line.
 */
export interface Progress {
  /** `n` more items done. */
  tick(n?: number): void;
  /** A line of its own, kept above the progress line. */
  note(line: string): void;
  /** On a terminal: the progress line becomes `label  done/total in m:ss`. */
  done(): void;
}

const REDRAW_MS = 250;

export function isTerminal(stream: Writable): boolean {
  return (stream as Writable & { isTTY?: boolean }).isTTY === true;
}

/** m:ss, or h:mm:ss from an hour on. */
export function clockTime(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const mmss = `${Math.floor((s % 3600) / 60)}:${String(s % 60).padStart(2, '0')}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mmss.padStart(5, '0')}` : mmss;
}

/** The progress line: the ETA is the mean time per item so far times the items left (unknown before the first). */
export function progressLine(label: string, done: number, total: number, elapsedMs: number): string {
  const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
  const eta = done > 0 ? clockTime((elapsedMs / done) * (total - done)) : '-:--';
  return `${label}  ${done}/${total} (${pct} %)  ETA ${eta}`;
}

export function progress(stream: Writable, label: string, total: number, now: () => number = () => performance.now()): Progress {
  const tty = isTerminal(stream);
  const started = now();
  let done = 0;
  let drawnAt = -Infinity;
  let shown = false;
  const draw = (): void => {
    drawnAt = now();
    shown = true;
    stream.write(`\r\x1b[K${progressLine(label, done, total, drawnAt - started)}`);
  };
  const clear = (): void => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  if (tty) draw();
  return {
    tick(n = 1) {
      done = Math.min(total, done + n);
      if (tty && (done === total || now() - drawnAt >= REDRAW_MS)) draw();
    },
    note(line) {
      clear();
      stream.write(`${line}\n`);
      if (tty && done < total) draw();
    },
    done() {
      if (!tty) return;
      clear();
      stream.write(`${label}  ${done}/${total} in ${clockTime(now() - started)}\n`);
    },
  };
}
