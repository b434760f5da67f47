// Where amqplib keeps a connection's socket (0.10: model.connection.stream).
import type { Writable } from 'node:stream';
import { corkable } from '../coalesce';

/** The socket under an amqplib connection, if amqplib still keeps it where 0.10 does. */
export function socketOf(model: unknown): Writable | undefined {
  return corkable((model as { connection?: { stream?: unknown } } | undefined)?.connection?.stream);
}
