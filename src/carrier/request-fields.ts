import type { z } from 'zod';
import { sessionRequestSchema } from './protocol.ts';

/**
 * Which field of a session request failed its schema, for the signed `schema` rejection. The answer comes from a fixed
 * vocabulary, the field paths the request and policy schemas declare, so nothing the carrier sent (a key it made up,
 * a value) is ever echoed. An unknown key names the object that holds it; `request` is the payload as a whole.
 */
export const WHOLE_REQUEST = 'request';

/** Every object and field path a schema declares (`reference`, `reference.format`, ...), through defaults and optionals. */
export function fieldPaths(schema: z.ZodType, prefix = ''): string[] {
  const def = schema._zod.def as { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType };
  if (def.innerType && ['default', 'prefault', 'optional', 'nullable', 'readonly'].includes(def.type)) {
    return fieldPaths(def.innerType, prefix);
  }
  if (def.type !== 'object' || !def.shape) return [];
  return Object.entries(def.shape).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...fieldPaths(child, path)];
  });
}

/** The request's field vocabulary: its own fields and, when the session's policy schema is given, `policy.<path>`. */
export function requestFields(policySchema?: z.ZodType): ReadonlySet<string> {
  return new Set([
    WHOLE_REQUEST, ...fieldPaths(sessionRequestSchema), ...(policySchema ? fieldPaths(policySchema, 'policy') : []),
  ]);
}

/**
 * The deepest declared field on a schema issue's path (array indices dropped: `policy.challenges.set`; `request` when
 * none is). `under` prefixes the path of an issue found by a nested schema (the policy's).
 */
export function failedField(issue: z.core.$ZodIssue | undefined, vocabulary: ReadonlySet<string>, under?: string): string {
  const keys = [...(under ? [under] : []), ...(issue?.path ?? []).filter((key) => typeof key === 'string')];
  for (let n = keys.length; n > 0; n--) {
    const path = keys.slice(0, n).join('.');
    if (vocabulary.has(path)) return path;
  }
  return WHOLE_REQUEST;
}
