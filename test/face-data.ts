import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';

/**
 * The development face data: public data sets for tests, calibration scripts and studies, read in place and never
 * copied into the repository. It is not part of the product (the demo ships its own clip, models/demo/): a plain
 * clone has none, so suites that read it skip there, and CI, which has it, requires it.
 *
 * Where it lives: `$REGTERM_FACE_DATA`, else `../shared/data` next to the checkout (how the project and CI lay it out).
 */
export const FACE_DATA_ENV = 'REGTERM_FACE_DATA';
/** `1` turns a missing data set into a failing suite instead of a skipped one (.ci/run sets it when ../shared exists). */
export const REQUIRE_FACE_DATA_ENV = 'REGTERM_REQUIRE_FACE_DATA';

const REPO = join(import.meta.dirname, '..');

export function faceDataRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env[FACE_DATA_ENV] ?? join(REPO, '..', 'shared', 'data');
}

export const FACE_DATA = faceDataRoot();
/** In the name of every suite declared with describeWithFaceData: `vitest run -t '\[face data\]'` runs just those (.ci/run). */
export const FACE_DATA_TAG = '[face data]';

/** The paths of `needs` (relative to the face data root) that do not exist; the root itself when it is missing. */
export function missingFaceData(needs: readonly string[], root: string = FACE_DATA): string[] {
  if (!existsSync(root)) return [root];
  return needs.filter((p) => !existsSync(join(root, p)));
}

/**
 * `describe` for a suite that reads the face data: `needs` are the data sets or files it reads, relative to the root
 * (e.g. `['liveportrait_driving_videos/d18.mp4']`). When any is missing the suite is not collected at all (its body
 * may read the data) and one skipped test says what is missing; with REGTERM_REQUIRE_FACE_DATA=1 it fails instead.
 * The suite's name gets FACE_DATA_TAG.
 * Module-level code of the spec must not read the data: do it inside the suite (beforeAll, the tests).
 */
export function describeWithFaceData(suite: string, needs: readonly string[], fn: () => void): void {
  const name = `${suite} ${FACE_DATA_TAG}`;
  const missing = missingFaceData(needs);
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const what = missing[0] === FACE_DATA
    ? `no face data at ${FACE_DATA} (set ${FACE_DATA_ENV})`
    : `face data missing under ${FACE_DATA}: ${missing.join(', ')}`;
  if (process.env[REQUIRE_FACE_DATA_ENV] === '1') {
    describe(name, () => {
      it('has the face data it reads', () => {
        throw new Error(`${what}; ${REQUIRE_FACE_DATA_ENV}=1 requires it`);
      });
    });
    return;
  }
  describe.skip(name, () => {
    it(`skipped: ${what}`, () => undefined);
  });
}
