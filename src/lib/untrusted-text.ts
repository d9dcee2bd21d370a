/**
 * Text from untrusted input (a request's header fields, schema messages naming its keys, errors about it) as it may
 * appear in a log line or a rejection detail: bounded, and never produced by calling into the value. `String(x)` of
 * a parsed object runs its `toString`/`valueOf` keys, which JSON can set to non-functions (it then throws), and a
 * 100,000-character field must not become a 100,000-character log line (DESIGN.md §6).
 */
export const UNTRUSTED_TEXT_MAX = 128;

/** `value` as bounded text; an Error gives its message. */
export function untrustedText(value: unknown, max = UNTRUSTED_TEXT_MAX): string {
  const message = value instanceof Error ? value.message : value;
  const text = typeof message === 'string' ? message : describe(message);
  return text.length <= max ? text : `${text.slice(0, max)}…[${text.length} chars]`;
}

/** A non-string as a short description that reads no property of it. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return '(an array)';
  switch (typeof value) {
    case 'number': case 'boolean': case 'bigint': case 'undefined': return `${value}`;
    case 'object': return '(an object)';
    default: return `(a ${typeof value})`;
  }
}
