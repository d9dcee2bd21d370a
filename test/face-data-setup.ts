import { FACE_DATA, FACE_DATA_ENV, REQUIRE_FACE_DATA_ENV, missingFaceData } from './face-data.ts';

/** One line per run when the face data is absent (test/face-data.ts); with REGTERM_REQUIRE_FACE_DATA=1 the run stops. */
export default function setup(): void {
  if (missingFaceData([]).length === 0) return;
  if (process.env[REQUIRE_FACE_DATA_ENV] === '1') {
    throw new Error(`no face data at ${FACE_DATA} (${FACE_DATA_ENV}), and ${REQUIRE_FACE_DATA_ENV}=1 requires it`);
  }
  process.stdout.write(`face data: none at ${FACE_DATA} (set ${FACE_DATA_ENV}); the suites that read it are skipped\n`);
}
