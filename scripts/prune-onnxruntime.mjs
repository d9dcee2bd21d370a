#!/usr/bin/env node
// Release postinstall: onnxruntime-node ships its native binaries for every OS and CPU (288 MB); the terminal needs
// its own only (linux/arm64: 25 MB). onnxruntime-node loads bin/napi-v*/<process.platform>/<process.arch>/ and nothing
// else, so the other directories are removed. Plain ESM JavaScript: it runs before anything else is installed.
//   node prune-onnxruntime.mjs [RELEASE_DIR [PLATFORM ARCH]]   (default: this machine's; the build passes its target's)
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [dir = process.cwd(), keepPlatform = process.platform, keepArch = process.arch] = process.argv.slice(2);
const bin = join(dir, 'node_modules', 'onnxruntime-node', 'bin');
if (existsSync(bin)) {
  for (const napi of readdirSync(bin)) {
    for (const platform of readdirSync(join(bin, napi))) {
      if (platform !== keepPlatform) {
        rmSync(join(bin, napi, platform), { recursive: true, force: true });
        continue;
      }
      for (const arch of readdirSync(join(bin, napi, platform))) {
        if (arch !== keepArch) rmSync(join(bin, napi, platform, arch), { recursive: true, force: true });
      }
    }
  }
}
