/**
 * Same-vs-different separation of the faceapi-resnet embedder on data folders of ready-made 150x150 chips
 * (dlib_johns: dlib-aligned colour chips; faceapi_bbt_characters: grayscale crops, not dlib-aligned): every pair of
 * images, cosine of the L2-normalised embeddings.
 *
 *   node --import tsx scripts/eval-faceapi-chips.ts [FOLDER...]      (default: dlib_johns faceapi_bbt_characters)
 *
 * Prints per folder: pair counts, mean same/different cosine, EER (and its threshold), TAR at FAR 1e-3 (with fewer
 * than 1000 different pairs this means: no different pair accepted).
 */
import { FaceapiEmbedder } from './faceapi-embedder.ts';
import { readChip, readLabels } from './faceapi-chips.ts';
import { cosine } from '../src/vision/matcher.ts';

export interface Separation {
  same: number;
  different: number;
  meanSame: number;
  meanDifferent: number;
  eer: number;
  eerThreshold: number;
  tarAtFar1e3: number;
}

/** EER and TAR@FAR=1e-3 from scored pairs (higher score = more alike). */
export function separation(sameScores: readonly number[], diffScores: readonly number[]): Separation {
  const mean = (a: readonly number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
  const thresholds = [...new Set([...sameScores, ...diffScores])].sort((a, b) => a - b);
  let eer = 1;
  let eerThreshold = 0;
  let best = Infinity;
  for (const t of thresholds) {
    const frr = sameScores.filter((s) => s < t).length / sameScores.length;
    const far = diffScores.filter((s) => s >= t).length / diffScores.length;
    if (Math.abs(frr - far) < best) {
      best = Math.abs(frr - far);
      eer = (frr + far) / 2;
      eerThreshold = t;
    }
  }
  // Highest threshold-free operating point with FAR <= 1e-3: accept only scores above the k-th highest impostor.
  const sortedDiff = [...diffScores].sort((a, b) => b - a);
  const allowed = Math.floor(diffScores.length * 1e-3);
  const cut = sortedDiff[allowed] ?? -Infinity;
  const tarAtFar1e3 = sameScores.filter((s) => s > cut).length / sameScores.length;
  return { same: sameScores.length, different: diffScores.length, meanSame: mean(sameScores), meanDifferent: mean(diffScores), eer, eerThreshold, tarAtFar1e3 };
}

/** Embed every labelled chip of a folder and score all pairs. */
export async function evalFolder(embedder: FaceapiEmbedder, folder: string): Promise<Separation> {
  const labels = readLabels(folder);
  const embs: Float32Array[] = [];
  for (const l of labels) embs.push(await embedder.embedChip(await readChip(l.file)));
  const same: number[] = [];
  const diff: number[] = [];
  for (let i = 0; i < labels.length; i++)
    for (let j = i + 1; j < labels.length; j++) (labels[i].identity === labels[j].identity ? same : diff).push(cosine(embs[i], embs[j]));
  return separation(same, diff);
}

async function main(): Promise<void> {
  const folders = process.argv.length > 2 ? process.argv.slice(2) : ['dlib_johns', 'faceapi_bbt_characters'];
  const embedder = new FaceapiEmbedder();
  await embedder.start();
  try {
    const out: Record<string, Separation> = {};
    for (const f of folders) out[f] = await evalFolder(embedder, f);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await embedder.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
