/**
 * Question: is fr_pose's yaw the same for a face and its mirror image, and does averaging the two (test-time flip)
 * make a better yaw for the turn challenge? Runs any regterm command with every fr_pose reading replaced by the mean
 * of the face and its mirrored face (yaw and roll change sign in the mirror, pitch does not):
 *   npx tsx research/flip-pose.ts eval pose --labels ../shared/data/aflw2000_pose/labels.csv --json
 *   npx tsx research/flip-pose.ts eval events DIR... --cache CACHE_DIR --json   (a cache of its own: the signals differ)
 * research/mirror-turns.sh runs the clips mirrored; docs/turns.md has both answers.
 */
import type { RgbImage } from '../src/vision/image.ts';
import { PoseModel } from '../src/vision/pose.ts';
import type { Box } from '../src/vision/warp.ts';

function mirrored(img: RgbImage): RgbImage {
  const data = new Uint8Array(img.data.length);
  const row = img.width * 3;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const from = y * row + x * 3;
      const to = y * row + (img.width - 1 - x) * 3;
      data[to] = img.data[from]!;
      data[to + 1] = img.data[from + 1]!;
      data[to + 2] = img.data[from + 2]!;
    }
  }
  return { width: img.width, height: img.height, data };
}

const predict = PoseModel.prototype.predict;
PoseModel.prototype.predict = async function flipAveraged(img: RgbImage, box: Box) {
  const face = await predict.call(this, img, box);
  const mirror = await predict.call(this, mirrored(img), { x1: img.width - box.x2, y1: box.y1, x2: img.width - box.x1, y2: box.y2 });
  return { yaw: (face.yaw - mirror.yaw) / 2, pitch: (face.pitch + mirror.pitch) / 2, roll: (face.roll - mirror.roll) / 2 };
};

// src/main.ts reads the command line after the script's name
await import('../src/main.ts');
