import { join } from 'node:path';
import { APP_ROOT } from './app-root.ts';

/**
 * Where the public face test data lives: `$REGTERM_FACE_DATA`, else `../shared/data` next to the checkout (how the
 * project and CI lay it out). Tests, calibration scripts and the demo read it in place; nothing is copied from it.
 */
export function faceDataRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.REGTERM_FACE_DATA ?? join(APP_ROOT, '..', 'shared', 'data');
}
