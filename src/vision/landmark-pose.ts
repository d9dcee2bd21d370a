/**
 * Head pose from the 68 iBUG landmarks the engine already computes (why and how well: docs/models.md):
 * a weak-perspective (scaled orthographic) fit of a generic rigid 3D face to the 2D points, by Gauss-Newton on
 * (yaw, pitch, roll, scale) with the translation removed by centring both point sets.
 *
 * SIGN CONVENTION: the one of src/vision/pose.ts, in the image as given:
 *   yaw > 0 the face turns toward the image right; pitch > 0 chin up; roll > 0 the head top tilts toward the image right.
 * Rotation order (this fit's Euler convention): R = Rz(roll) * Rx(pitch) * Ry(yaw), applied to the model in a
 * y-up, z-toward-the-camera frame, so roll is the image-plane tilt of the already yawed and pitched head.
 *
 * MODEL: only points that are rigid under expression and talking (eye corners, nose bridge, nose tip and base,
 * alar wings) plus the mouth corners and the upper jaw contour (landmarks 0 and 16: the occluding contour at about
 * tragion level, which a cylinder head keeps near +-W for moderate yaw). Eyebrows, lips, chin and lower jaw move
 * with expression and are left out. Coordinates are millimetres from generic adult anthropometry (Farkas: outer
 * canthi 90 mm apart, inner 32, mouth 50 wide, nose tip ~38 mm below the eye line and ~38 mm in front of the outer
 * canthi, half face width W ~68 mm with depth D/W ~1.6 behind the nose tip; docs/models.md checks that scale).
 * A generic face gives a per-person bias (a deeper nose reads as more yaw, pitch up to 12 deg off): the engine uses it
 * only between fr_pose readings, shifted by their recent offset (face-track.ts), never on its own.
 */

/** [iBUG index, x (toward the image right on a frontal face), y (up), z (toward the camera)] in mm, nose tip at 0. */
export type ModelPoint = readonly [number, number, number, number];

export const MODEL_POINTS: readonly ModelPoint[] = [
  [0, -68, -15, -105],
  [16, 68, -15, -105],
  [27, 0, 3, -22],
  [28, 0, -9, -16],
  [29, 0, -21, -9],
  [30, 0, -35, 0],
  [31, -13, -42, -17],
  [33, 0, -45, -13],
  [35, 13, -42, -17],
  [36, -45, 0, -38],
  [39, -16, 0, -28],
  [42, 16, 0, -28],
  [45, 45, 0, -38],
  [48, -25, -68, -28],
  [54, 25, -68, -28],
];

export interface LandmarkPose {
  /** degrees, pose.ts convention */
  yaw: number;
  pitch: number;
  roll: number;
  /** image pixels per model millimetre */
  scale: number;
  /** RMS residual of the fit over the model points, in model millimetres (scale-free fit quality) */
  residualMm: number;
}

const DEG = 180 / Math.PI;
const MAX_ITERATIONS = 12;

type Mat3 = [number, number, number, number, number, number, number, number, number];

function mul(a: Mat3, b: Mat3): Mat3 {
  const r = new Array<number>(9) as Mat3;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  }
  return r;
}

/** yaw about the vertical: the nose tip (+z) moves toward +x for yaw > 0 */
const ry = (c: number, s: number): Mat3 => [c, 0, s, 0, 1, 0, -s, 0, c];
/** pitch about the horizontal: the nose tip moves up (+y) for pitch > 0 */
const rx = (c: number, s: number): Mat3 => [1, 0, 0, 0, c, s, 0, -s, c];
/** roll in the image plane: the head top (+y) moves toward +x for roll > 0 */
const rz = (c: number, s: number): Mat3 => [c, s, 0, -s, c, 0, 0, 0, 1];

/** R and its three partial derivatives (yaw, pitch, roll), angles in radians. */
function rotation(yaw: number, pitch: number, roll: number): [Mat3, Mat3, Mat3, Mat3] {
  const [cy, sy, cp, sp, cr, sr] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch), Math.cos(roll), Math.sin(roll)];
  const Y = ry(cy, sy);
  const X = rx(cp, sp);
  const Z = rz(cr, sr);
  const dY: Mat3 = [-sy, 0, cy, 0, 0, 0, -cy, 0, -sy];
  const dX: Mat3 = [0, 0, 0, 0, -sp, cp, 0, -cp, -sp];
  const dZ: Mat3 = [-sr, cr, 0, -cr, -sr, 0, 0, 0, 0];
  const ZX = mul(Z, X);
  return [mul(ZX, Y), mul(ZX, dY), mul(mul(Z, dX), Y), mul(mul(dZ, X), Y)];
}

/** Solve the 4x4 system a x = b in place (Gaussian elimination, partial pivoting); false when singular. */
function solve4(a: number[], b: number[]): boolean {
  for (let c = 0; c < 4; c++) {
    let p = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(a[4 * r + c]) > Math.abs(a[4 * p + c])) p = r;
    if (Math.abs(a[4 * p + c]) < 1e-12) return false;
    for (let k = 0; k < 4; k++) [a[4 * c + k], a[4 * p + k]] = [a[4 * p + k], a[4 * c + k]];
    [b[c], b[p]] = [b[p], b[c]];
    for (let r = c + 1; r < 4; r++) {
      const f = a[4 * r + c] / a[4 * c + c];
      for (let k = c; k < 4; k++) a[4 * r + k] -= f * a[4 * c + k];
      b[r] -= f * b[c];
    }
  }
  for (let r = 3; r >= 0; r--) {
    let v = b[r];
    for (let k = r + 1; k < 4; k++) v -= a[4 * r + k] * b[k];
    b[r] = v / a[4 * r + r];
  }
  return true;
}

/**
 * Pose from 68 interleaved image points (x right, y DOWN, pixels; FaceAnalysis.landmarks68), or null when the
 * input is not a usable face: fewer than 68 points, non-finite values, collapsed points, or a fit that does not
 * converge to a finite pose. Pure: allocates a few small arrays, reads nothing else. `points` (a subset or variant of
 * the generic model, at least 4 non-coplanar points including 36 and 45) lets a study refit with other model points.
 */
export function landmarkPose(landmarks68: ArrayLike<number>, points: readonly ModelPoint[] = MODEL_POINTS): LandmarkPose | null {
  if (landmarks68.length < 136) return null;
  const N = points.length;
  // centred 2D observations (y up) and centred model points
  const q = new Float64Array(2 * N);
  const m = new Float64Array(3 * N);
  let qx = 0;
  let qy = 0;
  const mc = [0, 0, 0];
  for (let i = 0; i < N; i++) {
    const [idx, x, y, z] = points[i];
    const u = landmarks68[2 * idx];
    const v = -landmarks68[2 * idx + 1];
    if (!Number.isFinite(u) || !Number.isFinite(v)) return null;
    q[2 * i] = u;
    q[2 * i + 1] = v;
    qx += u;
    qy += v;
    m[3 * i] = x;
    m[3 * i + 1] = y;
    m[3 * i + 2] = z;
    mc[0] += x;
    mc[1] += y;
    mc[2] += z;
  }
  let qSpread = 0;
  let mSpread = 0;
  for (let i = 0; i < N; i++) {
    q[2 * i] -= qx / N;
    q[2 * i + 1] -= qy / N;
    for (let k = 0; k < 3; k++) m[3 * i + k] -= mc[k] / N;
    qSpread += q[2 * i] ** 2 + q[2 * i + 1] ** 2;
    mSpread += m[3 * i] ** 2 + m[3 * i + 1] ** 2;
  }
  if (!(qSpread > 1e-6)) return null;

  // start: frontal, the eye line's tilt as roll, scale from the spreads
  const ex = landmarks68[90] - landmarks68[72];
  const ey = landmarks68[91] - landmarks68[73];
  const p = [0, 0, Math.atan2(ey, ex), Math.sqrt(qSpread / mSpread)];
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    const [R, dYaw, dPitch, dRoll] = rotation(p[0], p[1], p[2]);
    const s = p[3];
    const jtj = new Array<number>(16).fill(0);
    const jtr = [0, 0, 0, 0];
    for (let i = 0; i < N; i++) {
      const [x, y, z] = [m[3 * i], m[3 * i + 1], m[3 * i + 2]];
      for (let row = 0; row < 2; row++) {
        const o = 3 * row;
        const proj = R[o] * x + R[o + 1] * y + R[o + 2] * z;
        const j = [
          s * (dYaw[o] * x + dYaw[o + 1] * y + dYaw[o + 2] * z),
          s * (dPitch[o] * x + dPitch[o + 1] * y + dPitch[o + 2] * z),
          s * (dRoll[o] * x + dRoll[o + 1] * y + dRoll[o + 2] * z),
          proj,
        ];
        const r = q[2 * i + row] - s * proj;
        for (let a = 0; a < 4; a++) {
          jtr[a] += j[a] * r;
          for (let b = 0; b < 4; b++) jtj[4 * a + b] += j[a] * j[b];
        }
      }
    }
    for (let a = 0; a < 4; a++) jtj[5 * a] *= 1 + 1e-6; // a touch of Levenberg damping keeps near-singular steps finite
    if (!solve4(jtj, jtr)) return null;
    for (let a = 0; a < 4; a++) p[a] += jtr[a];
    if (!p.every(Number.isFinite) || p[3] <= 0) return null;
    if (Math.abs(jtr[0]) + Math.abs(jtr[1]) + Math.abs(jtr[2]) < 1e-7) break;
  }
  const [R] = rotation(p[0], p[1], p[2]);
  let sq = 0;
  for (let i = 0; i < N; i++) {
    const [x, y, z] = [m[3 * i], m[3 * i + 1], m[3 * i + 2]];
    for (let row = 0; row < 2; row++) {
      const o = 3 * row;
      sq += (q[2 * i + row] / p[3] - (R[o] * x + R[o + 1] * y + R[o + 2] * z)) ** 2;
    }
  }
  const pose = { yaw: p[0] * DEG, pitch: p[1] * DEG, roll: p[2] * DEG, scale: p[3], residualMm: Math.sqrt(sq / N) };
  if (Math.abs(pose.yaw) > 90 || Math.abs(pose.pitch) > 90 || Math.abs(pose.roll) > 180) return null;
  return pose;
}
