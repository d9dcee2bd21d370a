/**
 * Writes the JSON Schemas of the carrier protocol beside docs/protocol.md (docs/protocol/*.schema.json) from the zod
 * schemas the agent checks messages with; test/unit/carrier/protocol-schemas.spec.ts fails until this has been run
 * after a schema change.
 *   node --import tsx scripts/protocol-schemas.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  progressEventSchema, REJECT_REASONS, resultPayloadSchema, sessionRequestSchema, statusPayloadSchema,
} from '../src/carrier/protocol.ts';
import { requestFields } from '../src/carrier/request-fields.ts';
import { SESSION_REASONS } from '../src/session/decision.ts';
import { policySchema } from '../src/session/policy.ts';

export const SCHEMA_DIR = join(import.meta.dirname, '..', 'docs', 'protocol');

/** A schema document; `default`s are left out (a deployment's policy base, not the schema, decides what is in force). */
function document(title: string, schema: z.ZodType, io: 'input' | 'output'): object {
  const json = z.toJSONSchema(schema, {
    io,
    override: (ctx) => { delete (ctx.jsonSchema as { default?: unknown }).default; },
  }) as Record<string, unknown>;
  const { $schema, ...rest } = json;
  return { $schema, title, ...rest };
}

/** File name → text of every protocol schema. */
export function protocolSchemas(): Record<string, string> {
  const request = sessionRequestSchema.extend({ policy: policySchema.optional() });
  const rejection = z.looseObject({
    decision: z.literal('rejected'),
    decidedBy: z.literal('request'),
    reason: z.enum(REJECT_REASONS),
    field: z.enum([...requestFields(policySchema)].sort() as [string, ...string[]]).optional(),
  });
  const docs: Record<string, object> = {
    'request.schema.json': document(
      'Session request: the payload of the carrier-signed JWS on regterm/v1/<deviceId>/session/request', request, 'input'),
    'result.schema.json': document(
      'Session result: the payload of the device-signed JWS on regterm/v1/<deviceId>/session/<sessionId>/result',
      resultPayloadSchema, 'output'),
    'rejection.schema.json': document(
      'What a rejected result holds beyond result.schema.json: its reason, and for `schema` the request field that failed',
      rejection, 'output'),
    'session-reasons.schema.json': document(
      'The reason of a session result that is not a rejection (decision error, quality_failed, ...)', z.enum(SESSION_REASONS), 'output'),
    'status.schema.json': document(
      'Terminal status: retained JSON on regterm/v1/<deviceId>/status (not signed)', statusPayloadSchema, 'output'),
    'progress.schema.json': document(
      'Session progress event: JSON on regterm/v1/<deviceId>/session/<sessionId>/progress (QoS 0, not signed)',
      progressEventSchema, 'output'),
  };
  return Object.fromEntries(Object.entries(docs).map(([name, doc]) => [name, `${JSON.stringify(doc, null, 2)}\n`]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const [name, text] of Object.entries(protocolSchemas())) writeFileSync(join(SCHEMA_DIR, name), text);
}
