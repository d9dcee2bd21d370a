/**
 * Scans an agent's JSON log output for biometric data (DESIGN.md §6: never logged). Returns one line per finding,
 * empty when clean. Looks for:
 * - the reference photo: any excerpt of 48+ characters of it as base64 or hex, or of the request JWS payload;
 * - template values: the given floats as JSON would print them;
 * - image-sized blobs: base64/hex runs of 200+ characters, other than the `allowed` ones (the signed results);
 * - embedding-like arrays: 16+ numbers in a row (`[0.1,0.2,...]` or a typed array's `{"0":0.1,"1":...}`);
 * - a biometric field (reference, embedding, template, image, frame, jpeg, crop) whose value is not `[redacted]`.
 */
export interface KnownBiometrics {
  reference: Uint8Array;
  requestJws: string;
  templateValues: number[];
  /** known non-biometric blobs that may appear (the signed results, which mqtt.js traces when publishing) */
  allowed?: string[];
}

const BIOMETRIC_KEYS = new Set(['reference', 'embedding', 'embeddings', 'template', 'templates', 'image', 'frame', 'jpeg', 'crop']);

/** true when some 32-character piece of a run of `alphabet` characters in the log occurs in `secret` */
function sharesText(log: string, secret: string, alphabet: string): boolean {
  for (const run of log.match(new RegExp(`[${alphabet}]{32,}`, 'g')) ?? []) {
    for (let i = 0; i + 32 <= run.length; i += 16) if (secret.includes(run.slice(i, i + 32))) return true;
  }
  return false;
}

function walk(value: unknown, path: string, found: string[]): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value)) {
    if (BIOMETRIC_KEYS.has(k.toLowerCase()) && v !== '[redacted]') found.push(`field ${path}${k} is logged`);
    walk(v, `${path}${k}.`, found);
  }
}

export function findBiometricLeaks(fullLog: string, known: KnownBiometrics): string[] {
  const found: string[] = [];
  const log = (known.allowed ?? []).reduce((text, blob) => text.split(blob).join('[allowed]'), fullLog);
  // Every long base64/hex run in the log is compared piecewise against the reference's encodings: an excerpt of
  // 48+ characters always contains a whole aligned 32-character piece.
  const ref = Buffer.from(known.reference);
  if (sharesText(log, ref.toString('base64'), 'A-Za-z0-9+/')) found.push('reference photo bytes (base64)');
  if (sharesText(log, ref.toString('hex'), '0-9a-f')) found.push('reference photo bytes (hex)');
  if (sharesText(log, known.requestJws.split('.')[1] ?? '', 'A-Za-z0-9_-')) found.push('request JWS payload (carries the reference photo)');
  for (const v of known.templateValues) if (Math.abs(v) > 1e-4 && log.includes(String(v))) found.push(`template value ${v}`);
  if (/[A-Za-z0-9+/_-]{200,}/.test(log)) found.push('a 200+ character base64/hex blob');
  const num = String.raw`-?\d+(?:\.\d+)?(?:e[-+]?\d+)?`;
  if (new RegExp(String.raw`\[\s*(?:${num}\s*,\s*){15,}`).test(log)) found.push('an array of 16+ numbers');
  if (new RegExp(String.raw`(?:"\d+"\s*:\s*${num}\s*,\s*){15,}`).test(log)) found.push('a typed array of 16+ numbers');
  for (const line of log.split('\n')) {
    if (!line.trim()) continue;
    try {
      walk(JSON.parse(line), '', found);
    } catch {
      found.push(`a non-JSON log line: ${line.slice(0, 80)}`);
    }
  }
  return [...new Set(found)];
}
