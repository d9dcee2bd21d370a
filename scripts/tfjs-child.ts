/**
 * Runs a tfjs reference script (scripts/*-reference.ts) in a child Node process: the inputs go in raw over stdin (face
 * data stays in memory, never on disk), the script prints one JSON array of output rows. tfjs runs in its own process
 * so its global backend state never meets onnxruntime in ours.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export function tfjsReference(root: string, script: string, args: readonly string[], stdin: Buffer): Promise<Float32Array[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', script), ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${script} exited ${code}: ${Buffer.concat(err).toString('utf8').slice(-2000)}`));
        return;
      }
      const rows = JSON.parse(Buffer.concat(out).toString('utf8')) as number[][];
      resolvePromise(rows.map((r) => Float32Array.from(r)));
    });
    child.stdin.end(stdin);
  });
}
