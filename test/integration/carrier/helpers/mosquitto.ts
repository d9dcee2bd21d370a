import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { TestPki } from './pki.ts';

const DOCS = join(import.meta.dirname, '..', '..', '..', '..', 'docs');
/** The broker configuration the project documents for carriers; the tests run it, not a copy of it. */
export const BROKER_CONF_EXAMPLE = join(DOCS, 'mosquitto.conf.example');
export const BROKER_ACL_EXAMPLE = join(DOCS, 'mosquitto.acl.example');

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

export interface MosquittoOptions {
  /** edits the rendered configuration: a test that needs a weaker broker than the documented one says how */
  editConfig?: (conf: string) => string;
}

/**
 * A real Debian mosquitto on 127.0.0.1 running docs/mosquitto.conf.example with docs/mosquitto.acl.example: TLS with
 * required client certificates; on the terminals' listener (`url`) the certificate CN is the username and the client
 * id, and the pattern ACL confines every device to `regterm/v1/<CN>/#`; only the `carrier` user may touch every
 * device's topics. The carrier listener (`carrierUrl`) trusts the same test CA here (the example gives it its own).
 * What the tests change: ports, paths, the user to run as, logging to stderr, and no persistence: a restart loses
 * everything in flight, which is what the fault tests want (the device's outbox must cover it).
 */
export class Mosquitto {
  private child?: ChildProcess;
  private readonly confPath: string;
  private carrierPort?: number;

  constructor(private readonly dir: string, readonly port: number, private readonly pki: TestPki,
    private readonly options: MosquittoOptions = {}) {
    this.confPath = join(dir, 'mosquitto.conf');
  }

  /** The terminals' listener. */
  get url(): string {
    return `mqtts://127.0.0.1:${this.port}`;
  }

  /** The carrier backends' listener (after start()). */
  get carrierUrl(): string {
    return `mqtts://127.0.0.1:${this.carrierListenerPort}`;
  }

  get carrierListenerPort(): number {
    if (this.carrierPort === undefined) throw new Error('Mosquitto.start() first');
    return this.carrierPort;
  }

  async start(): Promise<void> {
    if (this.carrierPort === undefined) {
      this.carrierPort = await freePort();
      this.writeConfig(this.carrierPort);
    }
    const child = spawn('mosquitto', ['-c', this.confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await this.accepting(this.port)) || !(await this.accepting(this.carrierPort))) {
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

  /** SIGSTOP: the broker keeps its sockets open and answers nothing (a hung broker or a half-open connection). */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The example with test ports and paths. */
  private writeConfig(carrierPort: number): void {
    const acl = join(this.dir, 'acl');
    copyFileSync(BROKER_ACL_EXAMPLE, acl);
    const ports = [this.port, carrierPort];
    const lines = readFileSync(BROKER_CONF_EXAMPLE, 'utf8').split('\n').flatMap((line) => {
      const key = line.split(' ')[0];
      switch (key) {
        case 'listener': return [`listener ${ports.shift() ?? 0} 127.0.0.1`];
        case 'cafile': return [`cafile ${this.pki.ca}`];
        case 'certfile': return [`certfile ${this.pki.server.cert}`];
        case 'keyfile': return [`keyfile ${this.pki.server.key}`];
        case 'acl_file': return [`acl_file ${acl}`];
        case 'persistence': return ['persistence false'];
        case 'persistence_location': return [];
        default: return [line];
      }
    });
    if (ports.length > 0) throw new Error(`${BROKER_CONF_EXAMPLE} no longer has two listeners`);
    const conf = [
      // mosquitto started as root drops to user `mosquitto`, which cannot read the 0700 tmp dir: stay who we are.
      `user ${userInfo().username}`, 'log_dest stderr', 'log_type error', 'log_type warning', ...lines,
    ].join('\n');
    writeFileSync(this.confPath, this.options.editConfig ? this.options.editConfig(conf) : conf);
  }

  private accepting(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
  }
}
