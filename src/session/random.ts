import { createHmac, randomBytes } from 'node:crypto';

/**
 * Where session randomness (challenge order, pauses, light-sequence salt) comes from.
 * Production: `cryptoRandom` (node:crypto CSPRNG). Tests: `seededRandom(seed)`, a deterministic HMAC-SHA256
 * counter-mode stream, so a fixed seed reproduces a session exactly.
 */
export interface RandomSource {
  bytes(n: number): Uint8Array;
}

export const cryptoRandom: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

export function seededRandom(seed: string | Uint8Array): RandomSource {
  let counter = 0;
  return {
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const block = createHmac('sha256', seed).update(`block:${counter++}`).digest();
        const take = Math.min(block.length, n - filled);
        out.set(block.subarray(0, take), filled);
        filled += take;
      }
      return out;
    },
  };
}

/** Uniform integer in [0, maxExclusive) by rejection sampling on 32-bit draws (no modulo bias). */
export function randomInt(src: RandomSource, maxExclusive: number): number {
  if (!Number.isInteger(maxExclusive) || maxExclusive <= 0 || maxExclusive > 2 ** 32) {
    throw new RangeError(`randomInt: bad bound ${maxExclusive}`);
  }
  const limit = Math.floor(2 ** 32 / maxExclusive) * maxExclusive;
  for (;;) {
    const b = src.bytes(4);
    const v = ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
    if (v < limit) return v % maxExclusive;
  }
}

/** Uniform integer in [min, max] inclusive. */
export function randomBetween(src: RandomSource, min: number, max: number): number {
  return min + randomInt(src, max - min + 1);
}

/** Fisher–Yates shuffle into a new array. */
export function shuffle<T>(src: RandomSource, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(src, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
