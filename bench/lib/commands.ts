// Command envelopes as a caller sends them, and reading the agent's replies
// (structured JSON over AMQP; over MQTT 5 the binary content mode: the
// payload is the reply's data itself).
import { randomUUID } from 'node:crypto';
import { COMMAND_TYPE_PREFIX } from '../../src/contract/addresses';

export function commandBody(command: string, data: unknown, id: string = randomUUID()): Buffer {
  return Buffer.from(
    JSON.stringify({
      specversion: '1.0',
      id,
      source: 'virtbus-bench',
      type: `${COMMAND_TYPE_PREFIX}${command}`,
      time: new Date().toISOString(),
      data,
    }),
  );
}

export interface ReplyData {
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

export function replyData(body: Buffer): ReplyData {
  const parsed = JSON.parse(body.toString()) as { specversion?: string; data?: unknown };
  return (parsed.specversion ? parsed.data : parsed) as ReplyData;
}

/** Throws unless the reply says ok. */
export function assertOk(body: Buffer, what: string): ReplyData {
  const r = replyData(body);
  if (!r?.ok) throw new Error(`${what}: ${r?.error ? `${r.error.code}: ${r.error.message}` : 'not ok'}`);
  return r;
}
