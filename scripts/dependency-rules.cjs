/**
 * The import rules of src/ (docs/architecture.md), checked by dependency-cruiser: `npm run check:deps` (CI runs it
 * after the typecheck). A folder may import only the folders listed under it; everything else is a violation.
 * dependency-cruiser reads TypeScript through swc (@swc/core) because it cannot use TypeScript 7's compiler.
 */
const LAYERS = {
  // infrastructure with no domain knowledge (src/app-root.ts belongs here too: it must stay at src/'s depth)
  lib: [],
  camera: ['lib'],
  panel: ['lib'],
  vision: ['lib'],
  carrier: ['lib'],
  session: ['lib', 'camera', 'panel', 'vision', 'carrier'],
  config: ['lib', 'carrier', 'session'],
  device: ['lib', 'carrier', 'config'],
  compose: ['lib', 'camera', 'panel', 'vision', 'carrier', 'session', 'config', 'device'],
  cli: ['lib', 'camera', 'panel', 'vision', 'carrier', 'session', 'config', 'device', 'compose'],
};
const FOLDERS = Object.keys(LAYERS).join('|');

const layerRules = Object.entries(LAYERS).map(([folder, allowed]) => ({
  name: folder === 'lib' ? 'lib-imports-no-domain' : `layer-${folder}`,
  comment: folder === 'lib'
    ? 'src/lib is infrastructure: it imports nothing from src/ outside src/lib'
    : `src/${folder} may import only ${allowed.map((f) => `src/${f}`).join(', ')} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/${folder}/` },
  to: { path: '^src/', pathNot: [`^src/(${[folder, ...allowed].join('|')})/`, '^src/app-root\\.ts$'] },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'modules that import each other, directly or through others',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'app-root-imports-nothing',
      comment: 'src/app-root.ts is in the lib layer',
      severity: 'error',
      from: { path: '^src/app-root\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'folder-has-a-layer',
      comment: `every file of src/ is main.ts, app-root.ts or in a folder with a layer (${FOLDERS}); a new folder gets one here`,
      severity: 'error',
      from: { path: '^src/', pathNot: [`^src/(${FOLDERS})/`, '^src/(main|app-root)\\.ts$'] },
      to: {},
    },
    {
      name: 'src-not-to-tools',
      comment: 'the product never imports tests, research or build scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|research|scripts)/' },
    },
  ],
  options: {
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    // type-only imports count: a cycle through types is still a cycle in the design
    tsPreCompilationDeps: true,
    doNotFollow: { path: ['node_modules', '^(test|research|scripts)/'] },
  },
};
