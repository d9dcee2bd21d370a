/** The documented JSON shape of an analysed face (regterm analyze). Numbers are rounded for reading; no pixels. */
import type { ScoredFaceAnalysis } from './engine.ts';

const r2 = (v: number): number => Math.round(v * 100) / 100;
const r4 = (v: number): number => Math.round(v * 10_000) / 10_000;

export interface FaceJson {
  box: { x1: number; y1: number; x2: number; y2: number };
  score: number;
  landmarks: [number, number][];
  pose: { yaw: number; pitch: number; roll: number };
  eyes: { left: number; right: number };
  quality: Record<string, number>;
  antispoof: number;
}

export function faceToJson(f: ScoredFaceAnalysis): FaceJson {
  const landmarks: [number, number][] = [];
  for (let i = 0; i < f.landmarks68.length; i += 2) landmarks.push([r2(f.landmarks68[i]), r2(f.landmarks68[i + 1])]);
  const quality: Record<string, number> = {};
  for (const [k, v] of Object.entries(f.quality)) quality[k] = r4(v);
  return {
    box: { x1: r2(f.box.x1), y1: r2(f.box.y1), x2: r2(f.box.x2), y2: r2(f.box.y2) },
    score: r4(f.score),
    landmarks,
    pose: { yaw: r2(f.pose.yaw), pitch: r2(f.pose.pitch), roll: r2(f.pose.roll) },
    eyes: { left: r4(f.eyes.left), right: r4(f.eyes.right) },
    quality,
    antispoof: r4(f.antispoof),
  };
}
