import { z } from 'zod';

/**
 * The carrier protocol (DESIGN.md §5): topics, the result payload the device signs, and the session request the
 * carrier signs. Both schemas are strict: unknown fields are rejected, so a payload means exactly what it says.
 *
 * Seam for the session engine: it builds a `ResultDecision` (everything the session decided) and hands it to
 * `CarrierLink.submitResult()`; the link adds deviceId, seq, models and agent, signs and persists it.
 * No image, crop or embedding is ever part of a payload: the schema has no field that could carry one.
 */

export const PROTOCOL_VERSION = 1;
export const TOPIC_ROOT = 'regterm/v1';

/** Device and session ids are used as topic levels, so they may contain no `/`, `+`, `#` or spaces. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/**
 * Rejections that are no session's verdict go to this level (requests not validly signed, unreadable, expired,
 * replayed, or naming a session id already used; see docs/reliability.md); it can never be a real sessionId.
 */
export const INVALID_SESSION = '_invalid';
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

export const DECISIONS = [
  'match', 'no_match', 'spoof', 'liveness_failed', 'no_face', 'quality_failed', 'timeout', 'cancelled', 'error',
  'rejected',
  /** an accepted session the agent could not finish (killed, power loss); signed after the restart, decidedBy `restart` */
  'interrupted',
] as const;
export type Decision = (typeof DECISIONS)[number];

/** Why a session request was rejected; published in the signed `rejected` result and logged. */
export const REJECT_REASONS = [
  'too_large', 'malformed', 'bad_signature', 'unknown_key', 'schema', 'wrong_device', 'not_yet_valid', 'expired',
  'ttl_too_long', 'replayed', 'busy', 'outbox_full', 'internal_error', 'camera_unavailable', 'storage_full',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const CHALLENGE_TYPES = ['blink', 'turn_left', 'turn_right', 'light'] as const;

const id = z.string().regex(ID_PATTERN);
const isoTime = z.iso.datetime({ offset: true });

export const challengeResultSchema = z.strictObject({
  type: z.enum(CHALLENGE_TYPES),
  passed: z.boolean(),
  ms: z.number().int().nonnegative(),
});

/** What the session engine decided. Scores and thresholds are plain numbers keyed by check name. */
export const resultDecisionSchema = z.strictObject({
  /** INVALID_SESSION only in a rejection that is no session's verdict (see INVALID_SESSION) */
  sessionId: z.union([id, z.literal(INVALID_SESSION)]),
  /** the request's nonce; in an INVALID_SESSION rejection only when the request's signature verified, else empty */
  nonce: z.string().max(256),
  decision: z.enum(DECISIONS),
  /** the check that decided it, e.g. `match`, `antispoof`, `challenge:blink`, `request` (for rejections) */
  decidedBy: z.string().min(1).max(64),
  /** machine-readable detail: a RejectReason for `rejected`, else the session's reason (e.g. `second_face`) */
  reason: z.string().regex(/^[a-z0-9_:.-]{1,64}$/).optional(),
  /** a `schema` rejection: the request field that failed, from a fixed vocabulary (request-fields.ts), never a value */
  field: z.string().regex(/^[A-Za-z0-9_.]{1,96}$/).optional(),
  scores: z.record(z.string().max(64), z.number().finite()),
  thresholds: z.record(z.string().max(64), z.number().finite()),
  challenges: z.array(challengeResultSchema).max(16),
  /** ms per session phase and in total */
  timings: z.record(z.string().max(64), z.number().finite().nonnegative()).optional(),
  startedAt: isoTime,
  finishedAt: isoTime,
});
export type ResultDecision = z.infer<typeof resultDecisionSchema>;

/** The signed result payload (JWS compact, alg EdDSA, kid = device key id). */
export const resultPayloadSchema = resultDecisionSchema.extend({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: id,
  seq: z.number().int().positive(),
  /** sha256 of the model manifest */
  models: z.string().max(128),
  /** agent version */
  agent: z.string().max(64),
});
export type ResultPayload = z.infer<typeof resultPayloadSchema>;

/**
 * A carrier-signed session request (the JWS payload). `policy` is the carrier's partial session policy; on the wire
 * it is any JSON object, and the composition root passes the session engine's policy schema to RequestValidator
 * (`policySchema` option) so an out-of-range or unknown policy key is rejected with reason `schema` up front.
 */
export const sessionRequestSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: id,
  sessionId: id,
  nonce: z.string().regex(NONCE_PATTERN),
  issuedAt: isoTime,
  expiresAt: isoTime,
  reference: z.strictObject({
    format: z.enum(['jpeg', 'png']),
    /** base64 of the photo; the overall message size limit bounds it */
    data: z.base64().min(4),
  }),
  policy: z.record(z.string(), z.json()).default({}),
});
export type SessionRequest = z.infer<typeof sessionRequestSchema>;

/**
 * The terminal's retained `status` (QoS 1, not signed; also its last will `offline`). `reasons` only when `degraded`;
 * `inventory` (static facts read once at start) only when connected. Documented for carriers: docs/protocol.md.
 */
export const statusPayloadSchema = z.strictObject({
  state: z.enum(['online', 'degraded', 'offline']),
  reasons: z.array(z.string().regex(/^[a-z0-9_]{1,40}$/)).optional(),
  deviceId: id,
  version: z.string().max(64),
  models: z.string().max(128),
  at: isoTime,
  inventory: z.strictObject({
    model: z.string().nullable(), serial: z.string().nullable(), os: z.string().nullable(), kernel: z.string(),
    arch: z.string(), agent: z.string(), models: z.string(),
  }).optional(),
});
export type StatusPayload = z.infer<typeof statusPayloadSchema>;

/**
 * A session's progress event on `session/<id>/progress` (QoS 0, not retained, not signed; for staff screens): the
 * session state, what happened (`prompt` with the prompt shown, or an event such as `gate_passed`), the time on the
 * session clock and bounded numeric or short text details. Never an image, a landmark or an embedding.
 */
export const progressEventSchema = z.strictObject({
  state: z.string().regex(/^[a-z_]{1,32}$/),
  event: z.string().regex(/^[a-z0-9_:]{1,64}$/),
  atMs: z.number().int().nonnegative(),
  prompt: z.string().regex(/^[a-z_]{1,32}$/).optional(),
  detail: z.record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean()])).optional(),
});
export type ProgressEventPayload = z.infer<typeof progressEventSchema>;

/**
 * A carrier-signed desired configuration (the JWS payload on `config/desired`, retained): a version that only grows
 * and a partial agent configuration (src/config/schema.ts), applied as the remote layer (src/config/remote-layer.ts).
 */
export const desiredConfigSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: id,
  version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  issuedAt: isoTime,
  config: z.record(z.string(), z.json()),
});
export type DesiredConfigMessage = z.infer<typeof desiredConfigSchema>;

/** What the terminal did with a desired configuration (device-signed JWS on `config/reported`, retained). */
export const CONFIG_STATUSES = ['applied', 'restarting', 'refused', 'rolled_back'] as const;
export const configReportSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: id,
  status: z.enum(CONFIG_STATUSES),
  /** the version this report is about (absent when a refused message had no readable version) */
  version: z.number().int().positive().optional(),
  /** sha256 of the canonical JSON of its partial config (src/config/remote-layer.ts configHash) */
  hash: z.string().max(64).optional(),
  /** refused: why, from a fixed vocabulary; rolled_back: did_not_reach_ready | invalid */
  reason: z.string().regex(/^[a-z0-9_]{1,40}$/).optional(),
  /** refused `invalid`/`forbidden_key`: every problem, each bounded */
  problems: z.array(z.string().max(300)).max(50).optional(),
  /** applied: the keys changed live and the keys that took a restart */
  live: z.array(z.string().max(64)).max(200).optional(),
  restart: z.array(z.string().max(64)).max(200).optional(),
  /** the remote layer in force after this report (none: provisioning's config and site files only) */
  inForce: z.strictObject({ version: z.number().int().positive(), hash: z.string().max(64) }).nullable(),
  at: isoTime,
});
export type ConfigReport = z.infer<typeof configReportSchema>;

/** A carrier-signed request for a session's numeric trace (on `trace/request`); answered on `trace/<sessionId>`. */
export const traceRequestSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: id,
  sessionId: id,
  issuedAt: isoTime,
});

/**
 * A carrier-signed update command (on `update/request`, QoS 1, not retained; docs/release.md "The update command"):
 * install the release tarball at `url` (its detached signature at `<url>.sig`) whose sha256 is `sha256` and whose
 * version is `version`. The release's own signature (a pinned release key) is checked as well: the carrier names
 * the file, the release key vouches for its content.
 */
const RELEASE_VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/;
export const updateRequestSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: id,
  nonce: z.string().regex(NONCE_PATTERN),
  issuedAt: isoTime,
  expiresAt: isoTime,
  url: z.url({ protocol: /^https?$/ }).max(2048),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  version: z.string().regex(RELEASE_VERSION_PATTERN),
});
export type UpdateRequest = z.infer<typeof updateRequestSchema>;

/**
 * What the terminal did with an update command, and how the update ended (device-signed JWS on `update/reported`,
 * retained): accepted (verified, downloading) → staged (downloaded and verified, handed to the installer) → applied
 * (the new version reached READY) → confirmed (it stayed up); or rejected (the command, the download or the release
 * failed a check: nothing was installed), failed (the installer could not install it) or rolled_back (the new
 * version did not reach READY or kept restarting; the previous one runs again).
 */
export const UPDATE_STATUSES = ['accepted', 'staged', 'rejected', 'failed', 'applied', 'confirmed', 'rolled_back'] as const;
export const updateReportSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: id,
  status: z.enum(UPDATE_STATUSES),
  /** the command this report answers (absent for a command that could not be read, and for a trial's outcome) */
  nonce: z.string().max(128).optional(),
  /** the version the update is about */
  version: z.string().max(64).optional(),
  /** the version that ran before it (the way back) */
  previous: z.string().max(64).optional(),
  /** rejected / failed / rolled_back: why, from a fixed vocabulary */
  reason: z.string().regex(/^[a-z0-9_]{1,40}$/).optional(),
  /** bounded human-readable detail */
  detail: z.string().max(300).optional(),
  /** the version of the agent that sent this report */
  running: z.string().max(64),
  at: isoTime,
});
export type UpdateReport = z.infer<typeof updateReportSchema>;

/**
 * Certificate renewal (docs/fleet.md "Certificate renewal"). The device publishes its CSR retained on `cert/csr` (an
 * empty retained message once the renewed certificate connected); `refused` says why the last certificate it got
 * was not used. The carrier answers on `cert/issued` with the certificate its device CA signed. That message needs no
 * carrier signature: only a certificate that chains to the pinned device CA, names this device and carries the key
 * the device just made for this CSR is ever used.
 */
export const certificateRequestSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: id,
  /** PEM PKCS#10, subject CN = deviceId, an EC P-256 key */
  csr: z.string().max(4096),
  /** the notAfter of the certificate in use */
  notAfter: isoTime,
  requestedAt: isoTime,
  refused: z.strictObject({ reason: z.string().max(40), detail: z.string().max(200), at: isoTime }).optional(),
});
export type CertificateRequest = z.infer<typeof certificateRequestSchema>;

export const issuedCertificateSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  deviceId: id,
  /** PEM: the device certificate (first), optionally followed by its chain, which is ignored */
  certificate: z.string().max(16 * 1024),
});
export type IssuedCertificate = z.infer<typeof issuedCertificateSchema>;

/** Topic names under the device's own prefix; the only topics the link ever publishes or subscribes to. */
export class Topics {
  readonly prefix: string;
  constructor(deviceId: string) {
    this.prefix = `${TOPIC_ROOT}/${deviceId}`;
  }
  get status(): string { return `${this.prefix}/status`; }
  get telemetry(): string { return `${this.prefix}/telemetry`; }
  get request(): string { return `${this.prefix}/session/request`; }
  get ackFilter(): string { return `${this.prefix}/session/+/ack`; }
  get configDesired(): string { return `${this.prefix}/config/desired`; }
  get configReported(): string { return `${this.prefix}/config/reported`; }
  get traceRequest(): string { return `${this.prefix}/trace/request`; }
  trace(sessionId: string): string { return `${this.prefix}/trace/${sessionId}`; }
  get updateRequest(): string { return `${this.prefix}/update/request`; }
  get updateReported(): string { return `${this.prefix}/update/reported`; }
  get certCsr(): string { return `${this.prefix}/cert/csr`; }
  get certIssued(): string { return `${this.prefix}/cert/issued`; }
  result(sessionId: string): string { return `${this.prefix}/session/${sessionId}/result`; }
  progress(sessionId: string): string { return `${this.prefix}/session/${sessionId}/progress`; }
  ack(sessionId: string): string { return `${this.prefix}/session/${sessionId}/ack`; }

  /** The sessionId of an ack topic under this prefix, or undefined for anything else. */
  parseAck(topic: string): string | undefined {
    const head = `${this.prefix}/session/`;
    if (!topic.startsWith(head) || !topic.endsWith('/ack')) return undefined;
    const sessionId = topic.slice(head.length, -'/ack'.length);
    return ID_PATTERN.test(sessionId) ? sessionId : undefined;
  }
}

/** Publishing to a wildcard or outside the own prefix is a programming error (z2m lib/mqtt.ts refuses them too). */
export function assertPublishTopic(topic: string, prefix: string): void {
  if (/[+#\u0000]/.test(topic)) throw new Error(`refusing to publish to wildcard topic ${topic}`);
  if (!topic.startsWith(`${prefix}/`)) throw new Error(`refusing to publish outside ${prefix}/: ${topic}`);
}
