import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * pino JSON to stdout with a synchronous destination: on a terminal that loses power, buffered log lines would be
 * lost (pino docs/asynchronous.md). Tests pass their own `destination` sink and parse the JSON lines.
 * Keys that could carry secrets or biometrics are redacted wherever they appear one level deep.
 */
export const REDACT_PATHS = [
  'key', '*.key', 'privateKey', '*.privateKey', 'token', '*.token', 'password', '*.password',
  'reference', '*.reference', 'embedding', '*.embedding', 'template', '*.template', 'image', '*.image',
  'frame', '*.frame', 'jpeg', '*.jpeg',
];

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'regterm' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
