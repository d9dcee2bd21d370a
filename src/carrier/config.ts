import { z } from 'zod';
import { ID_PATTERN } from './protocol.ts';

/**
 * The carrier settings an installer sets, with their limits and defaults. The agent configuration (src/config/schema.ts)
 * is built from these very fields, so the carrier part and the agent's config cannot disagree on a limit or a default.
 * A day of session expiry loses nothing when it runs out: the link subscribes on every connect, a queued request is
 * stale after its TTL anyway, and a result whose ack was lost is republished from our outbox. The keepalive stays well
 * under the broker health window (health.brokerMaxAgeMs).
 */
export const mqttSettings = {
  url: z.string().regex(/^(mqtts?|wss?):\/\//, 'mqtts://host:port (mqtt:// only for local tests)').default('mqtts://127.0.0.1:8883')
    .describe('Broker URL (mqtts:// for TLS)'),
  protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5).describe('MQTT protocol: 5, or 4 for 3.1.1'),
  caFile: z.string().optional().describe('CA certificate(s) the broker certificate must chain to (pinning)'),
  certFile: z.string().optional().describe('Device TLS client certificate'),
  keyFile: z.string().optional().describe('Device TLS client key'),
  keepaliveS: z.number().int().min(5).max(1200).default(30).describe('MQTT keepalive'),
  sessionExpiryS: z.number().int().min(0).default(86_400).describe('MQTT 5 session expiry (clean session false)'),
  reconnectMinMs: z.number().int().min(100).default(1000).describe('First reconnect delay (full jitter applied)'),
  reconnectMaxMs: z.number().int().min(1000).default(60_000).describe('Reconnect delay cap'),
};

export const maxRequestBytes = z.number().int().min(1024).max(16 * 1024 * 1024).default(1_048_576)
  .describe('Largest accepted session request');
export const outboxMaxResults = z.number().int().min(1).default(1000)
  .describe('Outbox cap: above it new sessions are refused, results are never dropped');

/**
 * What the carrier part is opened with (open.ts): the settings above, as the agent config holds them, plus knobs the
 * agent config does not expose (timeouts, resend, request TTL and clock skew, clientId). Paths are absolute on the
 * device; tests point them into a tmp dir.
 */
export const carrierConfigSchema = z.strictObject({
  /** unique per terminal; the MQTT username (certificate CN) and topic level */
  deviceId: z.string().regex(ID_PATTERN),
  /** holds state.db (outbox, seq, seen nonces) */
  stateDir: z.string().min(1),
  /** holds device.key.pem (0600) and device.pub.pem */
  identityDir: z.string().min(1),
  /** pinned carrier public keys (PEM files); rotation: add the new key, then remove the old one */
  carrierKeyFiles: z.array(z.string().min(1)).min(1),
  mqtt: z.strictObject({
    ...mqttSettings,
    servername: z.string().optional(),
    /** default: the deviceId (the certificate CN; a broker binding client ids to certificates assigns it anyway) */
    clientId: z.string().optional(),
    connectTimeoutMs: z.number().int().min(1000).default(10_000),
    /** republish a result not acknowledged within this time */
    resendAfterMs: z.number().int().min(100).default(30_000),
  }),
  requests: z.strictObject({
    maxBytes: maxRequestBytes,
    maxTtlS: z.number().int().min(10).default(600),
    clockSkewS: z.number().int().min(0).default(30),
  }).default({ maxBytes: 1024 * 1024, maxTtlS: 600, clockSkewS: 30 }),
  outbox: z.strictObject({
    maxEntries: outboxMaxResults,
  }).default({ maxEntries: 1000 }),
}).refine((c) => (c.mqtt.certFile === undefined) === (c.mqtt.keyFile === undefined), {
  message: 'mqtt.certFile and mqtt.keyFile go together',
});
export type CarrierConfig = z.infer<typeof carrierConfigSchema>;
export type CarrierConfigInput = z.input<typeof carrierConfigSchema>;
