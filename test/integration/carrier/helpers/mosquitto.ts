import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { TestPki } from './pki.ts';

/**
 * A real Debian mosquitto on 127.0.0.1 and a free port: TLS with required client certificates, the certificate CN
 * as username, and a pattern ACL that confines every device to `regterm/v1/<CN>/#`. Only the `carrier` user may
 * touch every device's topics. No persistence: a restart loses everything in flight, which is what the fault tests
 * want (the device's outbox must cover it).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export class Mosquitto {
  private child?: ChildProcess;
  private readonly confPath: string;

  constructor(private readonly dir: string, readonly port: number, pki: TestPki) {
    const acl = join(dir, 'acl');
    writeFileSync(acl, 'user carrier\ntopic readwrite regterm/v1/#\n\npattern readwrite regterm/v1/%u/#\n');
    this.confPath = join(dir, 'mosquitto.conf');
    writeFileSync(this.confPath, [
      // mosquitto started as root drops to user `mosquitto`, which cannot read the 0700 tmp dir: stay who we are.
      `user ${userInfo().username}`, 'per_listener_settings false', 'allow_anonymous false', 'persistence false',
      'log_dest stderr', 'log_type error', 'log_type warning', 'max_inflight_messages 100', 'max_queued_messages 10000',
      `listener ${port} 127.0.0.1`, `cafile ${pki.ca}`, `certfile ${pki.server.cert}`, `keyfile ${pki.server.key}`,
      'require_certificate true', 'use_identity_as_username true', `acl_file ${acl}`, '',
    ].join('\n'));
  }

  get url(): string {
    return `mqtts://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('mosquitto', ['-c', this.confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await this.accepting())) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${this.port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private accepting(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect(this.port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
  }
}
