import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RULES = join(ROOT, 'scripts', 'dependency-rules.cjs');

interface Cruise {
  summary: { totalCruised: number; violations: { rule: { name: string }; from: string; to: string }[] };
}

/** `npm run check:deps` with JSON output, in `cwd` (the repository or a tree made to break the rules). */
function depcruise(cwd: string): Cruise {
  const run = spawnSync('depcruise', ['--config', RULES, '--output-type', 'json', 'src'], {
    cwd, encoding: 'utf8', env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` },
  });
  if (run.error) throw run.error;
  expect(run.stdout, run.stderr).toMatch(/^\{/);
  return JSON.parse(run.stdout) as Cruise;
}

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('import rules (scripts/dependency-rules.cjs, docs/architecture.md)', () => {
  it('hold in src/, and the TypeScript sources were really read', () => {
    const { summary } = depcruise(ROOT);
    expect(summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
    // without a TypeScript parser dependency-cruiser skips .ts files and reports no violation in nothing
    expect(summary.totalCruised).toBeGreaterThan(150);
  });

  it('report a cycle, a layer crossing, domain code in lib, a tool import and a folder with no layer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regterm-deps-'));
    scratch.push(dir);
    const files: Record<string, string> = {
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true } }),
      'src/lib/clock.ts': "import type { Policy } from '../session/policy.ts';\nexport type Clock = { policy?: Policy };\n",
      'src/session/policy.ts': "import type { Clock } from '../lib/clock.ts';\nexport type Policy = { clock?: Clock };\n",
      'src/panel/leds.ts': "import { frame } from '../camera/frames.ts';\nexport const leds = frame;\n",
      'src/camera/frames.ts': "import { fixture } from '../../test/fixture.ts';\nexport const frame = fixture;\n",
      'src/extra/thing.ts': "import type { Clock } from '../lib/clock.ts';\nexport type Thing = Clock;\n",
      'test/fixture.ts': 'export const fixture = 1;\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const broken = depcruise(dir).summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(broken).toEqual([
      'folder-has-a-layer: src/extra/thing.ts → src/lib/clock.ts',
      'layer-panel: src/panel/leds.ts → src/camera/frames.ts',
      'lib-imports-no-domain: src/lib/clock.ts → src/session/policy.ts',
      'no-circular: src/lib/clock.ts → src/session/policy.ts',
      'src-not-to-tools: src/camera/frames.ts → test/fixture.ts',
    ]);
  });
});
