/**
 * Question: is fr_pose's yaw the same for a face and its mirror image, and does averaging the two (test-time flip)
 * make a better yaw for the turn challenge? Runs any regterm command with every fr_pose reading replaced by the mean
 * of the face and its mirrored face (yaw and roll change sign in the mirror, pitch does not):
 *   npx tsx research/flip-pose.ts eval pose --labels ../shared/data/aflw2000_pose/labels.csv --json
 *   npx tsx research/flip-pose.ts eval events DIR... --cache CACHE_DIR --json   (a cache of its own: the signals differ)
 * research/mirror-turns.sh runs the clips mirrored; docs/turns.md has both answers.
 */
import { mirror, type RgbImage } from '../src/vision/image.ts';
import { PoseModel } from '../src/vision/pose.ts';
import type { Box } from '../src/vision/warp.ts';

const predict = PoseModel.prototype.predict;
PoseModel.prototype.predict = async function flipAveraged(img: RgbImage, box: Box) {
  const face = await predict.call(this, img, box);
  const mirrored = await predict.call(this, mirror(img), { x1: img.width - box.x2, y1: box.y1, x2: img.width - box.x1, y2: box.y2 });
  return { yaw: (face.yaw - mirrored.yaw) / 2, pitch: (face.pitch + mirrored.pitch) / 2, roll: (face.roll - mirrored.roll) / 2 };
};

// src/main.ts reads the command line after the script's name
await import('../src/main.ts');
