import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Test helpers for the agent as a real process: a systemd notify socket stand-in and the agent child with its
 * JSON log lines collected. The agent runs in its own process group so a test can prove that nothing it started
 * (ffmpeg, rpicam-vid) outlives it.
 */
export const REGTERM = join(import.meta.dirname, '..', '..', '..', 'bin', 'regterm.js');

interface Receiver {
  bind(path: string): void;
  on(event: 'message', fn: (buf: Buffer) => void): void;
  close(): void;
}

/** A unix datagram socket playing systemd's NOTIFY_SOCKET: records every state the agent sends. */
export class NotifySocket {
  readonly states: string[] = [];
  private readonly socket: Receiver;
  constructor(readonly path: string) {
    const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: string): Receiver };
    this.socket = unix.createSocket('unix_dgram');
    this.socket.on('message', (buf) => this.states.push(buf.toString()));
    this.socket.bind(path);
  }
  close(): void {
    this.socket.close();
  }
}

export class AgentProcess {
  readonly lines: Array<Record<string, unknown>> = [];
  raw = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** called with every log line as it arrives (a test can react to a log line without polling) */
  onLine?: (line: Record<string, unknown>) => void;

  /**
   * `entry`: bin/regterm.js (sources through tsx) or a release bundle's dist/regterm.mjs; `wrapper`: a command that
   * runs the agent (e.g. strace and its options), then `pid` is the wrapper's
   */
  constructor(args: string[], env: NodeJS.ProcessEnv, entry: string = REGTERM, wrapper: string[] = []) {
    const [command, ...rest] = [...wrapper, process.execPath, entry, ...args];
    this.child = spawn(command!, rest, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let partial = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      this.raw += d.toString();
      partial += d.toString();
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const text of parts) {
        if (!text.trim()) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        this.lines.push(line);
        this.onLine?.(line);
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  hasLog(msg: string): boolean {
    return this.lines.some((l) => l.msg === msg);
  }

  /** How many times the broker has taken the agent's subscription to `topic` (a message sent before is lost). */
  subscriptions(topic: string): number {
    return this.lines.filter((l) => l.msg === 'subscribed' && Array.isArray(l.topics) && l.topics.includes(topic)).length;
  }

  /** Processes still in the agent's process group (its children), as "pid command" lines. */
  leftovers(): string[] {
    const out = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
    return out.split('\n').map((l) => l.trim()).filter((l) => l && Number(l.split(/\s+/)[1]) === this.pid);
  }

  /** Last resort in teardown: the whole group, so a failing test leaves nothing behind. */
  killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
