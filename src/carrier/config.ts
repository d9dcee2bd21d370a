import { z } from 'zod';
import { ID_PATTERN } from './protocol.ts';

/**
 * The carrier part of the agent config (a fragment for src/config; every key has a default and a doc line).
 * Paths are absolute on the device; tests point them into a tmp dir.
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
    /** mqtts://broker:8883 (mqtt:// only for local tests) */
    url: z.string().regex(/^(mqtts?|wss?):\/\//),
    /** 5 = MQTT 5 (default), 4 = MQTT 3.1.1 */
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
    /** CA certificate that must have signed the broker's certificate (pinning) */
    caFile: z.string().optional(),
    /** client certificate and key: the broker takes the username from the certificate */
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    servername: z.string().optional(),
    /** default: the deviceId (the certificate CN; a broker binding client ids to certificates assigns it anyway) */
    clientId: z.string().optional(),
    keepaliveS: z.number().int().min(5).max(3600).default(30),
    /** how long the broker keeps our session (subscriptions, queued acks) while we are offline */
    sessionExpiryS: z.number().int().min(0).default(7 * 24 * 3600),
    connectTimeoutMs: z.number().int().min(1000).default(10_000),
    backoffInitialMs: z.number().int().min(10).default(1000),
    backoffMaxMs: z.number().int().min(100).default(60_000),
    /** republish a result not acknowledged within this time */
    resendAfterMs: z.number().int().min(100).default(30_000),
  }),
  requests: z.strictObject({
    maxBytes: z.number().int().min(1024).default(1024 * 1024),
    maxTtlS: z.number().int().min(10).default(600),
    clockSkewS: z.number().int().min(0).default(30),
  }).default({ maxBytes: 1024 * 1024, maxTtlS: 600, clockSkewS: 30 }),
  outbox: z.strictObject({
    /** undelivered results at which new sessions are refused (results are never dropped) */
    maxEntries: z.number().int().min(1).default(1000),
  }).default({ maxEntries: 1000 }),
}).refine((c) => (c.mqtt.certFile === undefined) === (c.mqtt.keyFile === undefined), {
  message: 'mqtt.certFile and mqtt.keyFile go together',
});
export type CarrierConfig = z.infer<typeof carrierConfigSchema>;
export type CarrierConfigInput = z.input<typeof carrierConfigSchema>;
