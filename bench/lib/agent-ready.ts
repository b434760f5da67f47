// Readiness of an agent that logs at warn level (the 'ready' line is info):
// it is ready once it answers agent.ping over the bus.
import type { AgentProcess } from './agent-process';
import { assertOk } from './commands';
import { msSince } from './stats';

export async function waitAnswering(
  agent: AgentProcess,
  ping: (timeoutMs: number) => Promise<Buffer>,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  void agent.child.exited.then((x) => {
    exited = `exited (code ${x.code}, signal ${x.signal}): ${agent.child.stderrTail()} ${agent.complaints().join('; ')}`;
  });
  let last = '';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`agent ${agent.nodeId} ${exited}`);
    try {
      assertOk(await ping(500), 'agent.ping');
      return msSince(agent.child.spawnedAt);
    } catch (e) {
      last = (e as Error).message;
    }
  }
  throw new Error(`agent ${agent.nodeId} did not answer agent.ping within ${timeoutMs} ms (${last})`);
}
