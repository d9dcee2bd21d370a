import { defineConfig } from 'vitest/config';

// One runner config; the folder says the kind: test/unit (fast, isolated), test/integration (real broker,
// real child processes, files), test/hil (recorded sessions on real faces from ../shared/data). Suites that read the
// face data skip without it (test/face-data.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    globalSetup: ['test/attacks/global-setup.ts', 'test/face-data-setup.ts'],
    // Tests and studies that load onnxruntime-node directly (not through src/vision/onnxruntime.ts) keep its telemetry
    // off too; test/integration/agent/privacy.spec.ts runs the product without this variable.
    env: { ORT_DISABLE_TELEMETRY: '1' },
    pool: 'forks',
    // Most integration suites wait on child processes, brokers and sockets rather than compute: three files at a time
    // on a 2-core machine keep the cores busy (the default, one per core less one, runs them one by one).
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
