import { errorMessage, isImageDecodeError, type ImageProblem } from '../errors.ts';
import type { FaceAnalysis, FaceEngine } from '../vision/engine.ts';
import { decodeImage, padImage, wipeImage, type RgbImage } from '../vision/image.ts';
import type { PhotoFormat } from '../vision/photo-header.ts';
import type { ReferenceReason } from './decision.ts';
import type { Template } from './face-template.ts';

/** The part of the face engine reference intake uses. */
export type SessionEngine = Pick<FaceEngine, 'analyzeFrame' | 'embed'>;

/**
 * What a reference (ID) photo must show before a customer is prompted. ID photos are frontal, well lit and at least
 * passport-scan size; these limits reject what the embedders cannot use, not what is merely imperfect:
 * - exactly one face (a second face makes "the person on the photo" ambiguous; the detector sees faces from ~20 px);
 * - face box >= 64 px wide: below that the 112 px aligned crop is a >1.75x upsample and embeddings degrade;
 * - |yaw| and |pitch| <= 25 deg: beyond ~20-25 deg the embedders lose accuracy (the live gate uses 15 deg);
 * - sharpness >= 40 (vision's Laplacian variance; sharp faces measure 320-3800, heavy blur sigma 3 down to 44).
 */
export const REFERENCE_LIMITS = { minFaceWidthPx: 64, maxYawDeg: 25, maxPitchDeg: 25, minSharpness: 40 } as const;

/**
 * Border added around the reference photo, as a fraction of its longer side, before analysis: ID portraits are cropped
 * tight to the face, which cuts the detector box at the edge and makes the pose model read frontal faces as turned.
 * Usable photos, as given → with a 0.25 border: NUAA live (tight webcam crops) 189 → 218 of 220 (not frontal 17 → 0,
 * no face 3 → 0), faceapi_bbt 21 → 24 of 25, dlib_johns 32 → 33 of 33, deepface 36 / 37 and face_recognition_examples
 * 18 / 20 unchanged; a 0.5 border gains 1 more NUAA photo. test/hil/session/reference.spec.ts shows both halves.
 */
const REFERENCE_BORDER = 0.25;

/**
 * The reference photo as bytes from outside: JPEG or PNG only, at most 4096 px a side and 6 megapixels, checked from
 * the header before decoding. The pixel budget is set by the costliest decode: a progressive JPEG holds the whole
 * image's DCT coefficients (2 bytes a pixel per colour component) until it is decoded; 6 MP is still a 3000 x 2000
 * scan, more than a request's size limit carries at a usable JPEG quality. The photo is analysed at most 2048 px a
 * side (scaled down in the decoder): an ID portrait's face is far larger than the detector's and embedders' inputs at
 * that size, and it bounds every buffer after the decoder, the bordered copy included (3072 x 3072 RGB at most).
 * docs/reliability.md "Reference photos".
 */
export const REFERENCE_PHOTO = { limits: { maxSide: 4096, maxPixels: 6_000_000 }, analysedSide: 2048 } as const;

export type ReferenceOutcome =
  | { ok: true; template: Template }
  /** `detail`: a slug for staff (no_face, face_blurry, ...); `message`: what the decoder said, for the log */
  | { ok: false; reason: ReferenceReason; detail: string; message?: string };

const DECODE_REASON: Record<ImageProblem, ReferenceReason> = {
  unsupported: 'unsupported_image',
  format_mismatch: 'reference_format_mismatch',
  too_large: 'reference_too_large',
  unreadable: 'reference_unreadable',
};

/** Why a detected reference face is unusable, or undefined when it is fine. */
export function referenceIssue(face: FaceAnalysis): string | undefined {
  const L = REFERENCE_LIMITS;
  if (face.quality.faceWidth < L.minFaceWidthPx) return 'face_too_small';
  if (Math.abs(face.pose.yaw) > L.maxYawDeg || Math.abs(face.pose.pitch) > L.maxPitchDeg) return 'face_not_frontal';
  if (face.quality.sharpness < L.minSharpness) return 'face_blurry';
  return undefined;
}

/**
 * Reference photo bytes → template. The bytes, the decoded image and the landmarks are zeroed before this resolves,
 * whatever the outcome. A refused photo is an outcome, not an error: the file (REFERENCE_REASONS: unsupported_image,
 * reference_format_mismatch, reference_too_large, reference_unreadable; `detail` = the same) or what it shows
 * (reference_unusable; `detail` no_face, multiple_faces, face_too_small, face_not_frontal, face_blurry).
 * `declared` is the format the request named. Errors other than a refused photo (an engine failure) propagate.
 */
export async function referenceTemplate(
  engine: SessionEngine, bytes: Uint8Array, signal?: AbortSignal, declared?: PhotoFormat,
): Promise<ReferenceOutcome> {
  let decoded: RgbImage | undefined;
  let img: RgbImage | undefined;
  let faces: FaceAnalysis[] = [];
  const unusable = (detail: string): ReferenceOutcome => ({ ok: false, reason: 'reference_unusable', detail });
  try {
    try {
      decoded = await decodeImage(bytes, 'reference', {
        declared, limits: REFERENCE_PHOTO.limits, fitWithin: REFERENCE_PHOTO.analysedSide,
      });
    } catch (e: unknown) {
      if (!isImageDecodeError(e)) throw e;
      const reason = DECODE_REASON[e.problem];
      return { ok: false, reason, detail: reason, message: errorMessage(e) };
    }
    img = padImage(decoded, Math.round(REFERENCE_BORDER * Math.max(decoded.width, decoded.height)));
    wipeImage(decoded);
    faces = await engine.analyzeFrame(img, { maxFaces: 2, signal });
    if (faces.length === 0) return unusable('no_face');
    if (faces.length > 1) return unusable('multiple_faces');
    const issue = referenceIssue(faces[0]);
    if (issue) return unusable(issue);
    return { ok: true, template: await engine.embed(img, faces[0]) };
  } finally {
    bytes.fill(0);
    if (decoded) wipeImage(decoded);
    if (img) wipeImage(img);
    for (const f of faces) f.landmarks68.fill(0);
  }
}
