// Starts a baseline responder (responder.ts) in a child process and waits until it is ready.
import { join } from 'node:path';
import type { Cleanup } from './cleanup';
import { startChild, type Child } from './proc';

const RESPONDER_MAIN = join(__dirname, '..', 'responder.js');

export async function startResponder(
  kind: 'amqp-echo' | 'mqtt-echo' | 'amqp-standin',
  args: string[],
  cleanup: Cleanup,
  readyMsg = 'ready',
): Promise<{ child: Child; line: Record<string, unknown> }> {
  const child = startChild(`responder ${kind}`, process.execPath, [RESPONDER_MAIN, kind, ...args], cleanup);
  const { line } = await child.waitForLine((l) => l.includes(`"msg":"${readyMsg}"`), 20_000);
  return { child, line: JSON.parse(line) as Record<string, unknown> };
}
