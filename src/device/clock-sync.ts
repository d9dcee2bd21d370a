import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Whether the system clock is synchronised. A Pi has no RTC: until NTP has set the clock, request expiry checks and
 * result times are wrong, so the terminal reports `clock_unsynchronised` (status and telemetry) instead of trusting it.
 *
 * Sources, in order: `timedatectl show --property=NTPSynchronized` (the kernel's own sync flag, for timesyncd and
 * chrony alike), then the flag file systemd-timesyncd keeps while synchronised. Neither available: `unknown`.
 * A clock before the release was built is never synchronised, whatever the sources say.
 */
export type ClockSync = 'synchronized' | 'unsynchronized' | 'unknown';

export interface ClockSyncOptions {
  /** the timedatectl executable (absent: skipped) */
  timedatectl?: string;
  /** systemd-timesyncd's flag file */
  flagFile?: string;
  /** no real clock reads earlier than this (ms since the epoch): the release's build time */
  notBeforeMs?: number;
  now?: () => number;
}

export const TIMESYNCD_FLAG = '/run/systemd/timesync/synchronized';

export async function clockSync(o: ClockSyncOptions = {}): Promise<ClockSync> {
  const now = (o.now ?? Date.now)();
  if (o.notBeforeMs !== undefined && now < o.notBeforeMs) return 'unsynchronized';
  const fromTimedatectl = await askTimedatectl(o.timedatectl ?? 'timedatectl');
  if (fromTimedatectl) return fromTimedatectl;
  const flag = o.flagFile ?? TIMESYNCD_FLAG;
  if (existsSync(flag)) return 'synchronized';
  // The flag file's folder exists when timesyncd runs: then a missing flag means "not yet".
  return existsSync(flag.slice(0, flag.lastIndexOf('/'))) ? 'unsynchronized' : 'unknown';
}

function askTimedatectl(bin: string): Promise<ClockSync | undefined> {
  return new Promise((resolve) => {
    execFile(bin, ['show', '--property=NTPSynchronized', '--value'], { timeout: 2000 }, (error, stdout) => {
      const answer = String(stdout).trim();
      if (error || (answer !== 'yes' && answer !== 'no')) resolve(undefined);
      else resolve(answer === 'yes' ? 'synchronized' : 'unsynchronized');
    });
  });
}
