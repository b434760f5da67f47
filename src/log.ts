// Structured JSON logs (pino) on stdout: one JSON object per line for
// machines (journald, Loki, jq). On a terminal (`npm start`) the same lines
// are pretty-printed by pino-pretty, in this process (no transport worker),
// loaded only then.
import pino, { type Logger } from 'pino';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

export function createLogger(
  level = 'info',
  bindings: Record<string, unknown> = {},
  format: LogFormat = 'json',
): Logger {
  const options = { level, base: { ...bindings }, timestamp: pino.stdTimeFunctions.isoTime };
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!pretty) return pino(options);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only on a terminal
  const { PinoPretty } = require('pino-pretty') as typeof import('pino-pretty');
  return pino(
    options,
    PinoPretty({
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      sync: true,
    }),
  );
}
