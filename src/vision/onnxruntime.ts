/**
 * The product's only way to onnxruntime-node. Its Linux build ships Microsoft's telemetry client, on unless
 * ORT_DISABLE_TELEMETRY is set when the library creates its environment: session events (model names, timings),
 * system metrics and a device id are queued in ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db, a debug
 * log goes to $TMPDIR/mat-debug-<pid>.log, and uploads go to an external collector. The terminal talks to its broker
 * and nothing else (DESIGN.md §6), so the switch is set here, in code, whatever the environment says; the binding has
 * no API for it. The native library reads it with getenv, which sees process.env assignments (Node calls setenv).
 * The library is required in this module's body, after the assignment, so no import order or bundler hoisting can
 * load it first. test/integration/agent/privacy.spec.ts fails if the switch goes.
 */
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';

process.env.ORT_DISABLE_TELEMETRY = '1';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
export default ort;
export type { InferenceSession } from 'onnxruntime-node';
