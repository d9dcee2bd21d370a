/**
 * Moving the primary face's detector box with its landmarks, so a tracked stream can skip the full-frame detector
 * between detector frames. The carried box is the last DETECTOR box, moved by the shift of the stable points' centre
 * and scaled by their spread since that frame: the brows, nose and eyes (iBUG 17-47), which an opening mouth does not
 * move. It keeps the detector's own box rather than mapping the landmarks' bounding box to the detector's convention
 * because the landmark and eye-state models are sensitive to the crop: a mapped box flips the eye-state decision far
 * more often (docs/models.md).
 */
import type { Box } from './warp.ts';

/** Centre and spread (RMS distance from the centre) of the stable points: three scalars, nothing that identifies a face. */
export interface StableFrame {
  x: number;
  y: number;
  s: number;
}

const FIRST = 17;
const LAST = 47;

export function stableFrame(lm: ArrayLike<number>): StableFrame {
  const n = LAST - FIRST + 1;
  let x = 0;
  let y = 0;
  for (let k = FIRST; k <= LAST; k++) {
    x += lm[2 * k];
    y += lm[2 * k + 1];
  }
  x /= n;
  y /= n;
  let ss = 0;
  for (let k = FIRST; k <= LAST; k++) ss += (lm[2 * k] - x) ** 2 + (lm[2 * k + 1] - y) ** 2;
  return { x, y, s: Math.sqrt(ss / n) };
}

/** `box` (found when the stable points were at `from`) moved and scaled to where they are now (`to`). */
export function moveBox(box: Box, from: StableFrame, to: StableFrame): Box {
  const r = from.s > 0 ? to.s / from.s : 1;
  const cx = (box.x1 + box.x2) / 2 + to.x - from.x;
  const cy = (box.y1 + box.y2) / 2 + to.y - from.y;
  const hw = ((box.x2 - box.x1) * r) / 2;
  const hh = ((box.y2 - box.y1) * r) / 2;
  return { x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh };
}
