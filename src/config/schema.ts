import { z } from 'zod';
import { maxRequestBytes, mqttSettings, outboxMaxResults } from '../carrier/config.ts';
import { type PolicyInput, resolvePolicy } from '../session/policy.ts';

/**
 * The one configuration schema: every key has a type, a default and a doc string (`.describe`). Unknown keys are
 * errors (strict objects), so a typo in a field engineer's file is reported instead of silently ignored.
 * Environment overrides are derived from the path: `mqtt.url` ↔ `REGTERM_MQTT_URL` (see load.ts).
 */
// A missing section means "all defaults": `{}` is parsed through the section's own defaults (prefault). The cast is
// needed because TypeScript cannot see that `{}` satisfies a generic shape whose keys all have defaults.
const section = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape).prefault({} as never);

export const DEFAULT_STATE_DIR = '/var/lib/regterm';

const BCM_PIN = z.number().int().min(0).max(27);

export const configSchema = z.strictObject({
  deviceId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (it is an MQTT topic level)')
    .default('regterm-dev')
    .describe('Device id: the MQTT topic level under regterm/v1/ and the clientId. Set by provisioning.'),
  stateDir: z
    .string()
    .default(DEFAULT_STATE_DIR)
    .describe('Durable state: outbox database, result sequence, seen nonces. systemd StateDirectory.'),
  log: section({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
  }),
  models: section({
    dir: z.string().optional().describe('Override the directory model files are loaded from (default: models/ beside the manifest)'),
    intraOpThreads: z.number().int().min(1).max(8).default(1).describe('onnxruntime threads per model session'),
  }),
  camera: section({
    backend: z.enum(['rpicam', 'ffmpeg', 'replay']).default('replay').describe('Frame source: rpicam (CSI camera via rpicam-vid), ffmpeg (USB/V4L2 or a video file), replay (a recording)'),
    width: z.number().int().min(64).max(4096).default(640).describe('Capture width in pixels'),
    height: z.number().int().min(64).max(4096).default(480).describe('Capture height in pixels'),
    fps: z.number().min(1).max(120).default(15).describe('Capture frame rate'),
    rpicamBin: z.string().default('rpicam-vid').describe('rpicam-vid executable (a stand-in in tests)'),
    device: z.string().default('/dev/video0').describe('ffmpeg backend: V4L2 device or video file'),
    recording: z.string().optional().describe('replay backend: recording directory or video file'),
    strideAlign: z.number().int().min(1).max(4096).default(64).describe('rpicam: row alignment of the ISP buffers in bytes (64 on Pi 4; check 128 on Pi 5)'),
    pace: z.enum(['recorded', 'fast']).default('recorded').describe('replay: play at the recorded pace or as fast as frames are consumed'),
    loop: z.boolean().default(false).describe('ffmpeg with a video file, or replay: play the recording over and over (a replayed agent then serves more than one session)'),
    stallMs: z.number().int().min(100).default(3000).describe('No frame for this long counts as a stall and restarts the camera'),
  }),
  panel: section({
    backend: z.enum(['onoff', 'gpiod', 'sim']).default('sim')
      .describe('LEDs and buttons: gpiod (GPIO character device via the libgpiod tools), onoff (sysfs GPIO) or sim (simulated)'),
    gpioRoot: z.string().default('/sys/class/gpio').describe('onoff: sysfs GPIO root (a fixture tree in tests)'),
    gpiochip: z.string().regex(/^gpiochip\d+$/, 'a chip name like gpiochip0').optional()
      .describe('gpiod: the GPIO chip of the header pins; default: the chip labelled pinctrl-bcm2835/-bcm2711/-rp1'),
    gpiodToolsDir: z.string().default('/usr/bin').describe('gpiod: directory of gpioset, gpioget, gpiomon, gpiodetect (a stand-in in tests)'),
    leds: z.record(z.string(), BCM_PIN).default({ look: 17, blink: 27, left: 22, right: 23, busy: 24, pass: 25, fail: 5, light: 26 }).describe('LED name → BCM pin'),
    buttons: z.record(z.string(), BCM_PIN).default({ start: 6, cancel: 13, assist: 19 }).describe('Button name → BCM pin'),
    buttonsActiveLow: z.boolean().default(true).describe('Buttons pull the line low when pressed (gpiod: with the pull-up bias set)'),
    ledsActiveLow: z.boolean().default(false).describe('LEDs light when their pin is driven low'),
    debounceMs: z.number().int().min(0).max(1000).default(30).describe('Button debounce time'),
  }),
  mqtt: section({
    url: mqttSettings.url,
    protocolVersion: mqttSettings.protocolVersion,
    caFile: mqttSettings.caFile,
    certFile: mqttSettings.certFile,
    keyFile: mqttSettings.keyFile,
    deviceCaFile: z.string().optional().describe('CA certificate(s) that issue device certificates: a renewed certificate must chain to one (default: mqtt.caFile)'),
    certRenewBeforeDays: z.number().int().min(1).max(365).default(30).describe('Renew the client certificate this many days before its notAfter (degraded certificate_expiring from then on)'),
    certCheckIntervalS: z.number().int().min(10).max(86_400).default(3600).describe('How often the client certificate\'s notAfter is checked'),
    keepaliveS: mqttSettings.keepaliveS,
    sessionExpiryS: mqttSettings.sessionExpiryS,
    reconnectMinMs: mqttSettings.reconnectMinMs,
    reconnectMaxMs: mqttSettings.reconnectMaxMs,
  }),
  carrier: section({
    keysDir: z.string().default('/etc/regterm/carrier-keys').describe('Pinned carrier public keys (PEM, one per kid) for session requests'),
    keys: z.record(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a kid (RFC 7638 thumbprint, base64url)'), z.string().max(1024))
      .default({}).describe('More trusted carrier keys, kid → Ed25519 public key PEM (set by the remote layer to rotate keys)'),
    revokedKids: z.array(z.string().max(64)).max(64).default([]).describe('Carrier kids no longer trusted, even when their PEM is in keysDir'),
    maxRequestBytes,
    drainBudgetMs: z.number().int().min(0).default(10_000).describe('On stop, time allowed to publish queued results'),
    outboxMaxResults,
  }),
  identity: section({
    signingKeyFile: z.string().default('/etc/regterm/device-key.pem').describe('Device Ed25519 private key (0600, service user)'),
  }),
  health: section({
    frameMaxAgeMs: z.number().int().min(1000).default(10_000).describe('Status: a live camera that delivered no frame for this long is camera_unavailable (degraded; sessions refused). Replay recordings end, so only their camera health counts'),
    brokerMaxAgeMs: z.number().int().min(1000).default(120_000).describe('Status: no packet from the broker (keepalive pings count) for this long is broker_unreachable (degraded, in the log and telemetry); keep above 2 x mqtt.keepaliveS'),
  }),
  session: section({
    policy: z.record(z.string(), z.json())
      // checked here against the session's own schema, so its problems are reported with every other config problem
      .superRefine((value, ctx) => {
        try {
          resolvePolicy(value as PolicyInput);
        } catch (e: unknown) {
          const issues = e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join('.')}: ${i.message}`) : [e instanceof Error ? e.message : String(e)];
          for (const message of issues) ctx.addIssue({ code: 'custom', message });
        }
      })
      .default({}).describe('Deployment base of the session policy (src/session/policy.ts); the carrier request overrides it per session'),
    maxFailures: z.number().int().min(1).default(5).describe('Failed sessions allowed per terminal inside session.failureWindowS before new ones are refused'),
    failureWindowS: z.number().int().min(1).default(600).describe('Sliding window of the failed-session rate limit'),
  }),
  trace: section({
    keepSessions: z.number().int().min(0).max(10_000).default(200).describe('Session traces kept in stateDir/traces (numbers only: no image, landmark or embedding); 0 keeps none'),
    keepDays: z.number().int().min(1).max(365).default(14).describe('Session traces older than this are removed'),
    maxTotalMB: z.number().min(1).max(1024).default(50).describe('Session traces together stay under this size (oldest removed first)'),
  }),
  update: section({
    releaseKeysDir: z.string().default('/etc/regterm/release-keys').describe('Pinned Ed25519 release keys (<kid>.pem): an update the carrier commands must be signed with one (docs/release.md)'),
  }),
  telemetry: section({
    intervalS: z.number().int().min(5).default(60).describe('Telemetry publish interval'),
    sysRoot: z.string().default('/sys').describe('sysfs root for temperature and throttling reads'),
  }),
});

export type Config = z.infer<typeof configSchema>;
