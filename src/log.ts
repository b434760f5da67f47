// Structured JSON logs (pino) on stdout.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info', bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { ...bindings }, timestamp: pino.stdTimeFunctions.isoTime });
}
