import { defineConfig } from 'vitest/config';

// One runner config; the folder says the kind: test/unit (fast, isolated), test/integration (real broker,
// real child processes, files), test/hil (recorded sessions on real faces from ../shared/data). Suites that read the
// face data skip without it (test/face-data.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    globalSetup: ['test/attacks/global-setup.ts', 'test/face-data-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
