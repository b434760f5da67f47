// Runs the real agent in the test process, on a unique node id.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentOptions } from '../../src/agent/agent';
import { AmqpTransport } from '../../src/bus/amqp/transport';
import { createLogger } from '../../src/log';
import { AMQP_URL } from './amqp-client';

let n = 0;
export function testNode(prefix = 't'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${n++}`;
}

export const REDIS_URL = process.env.VIRTBUS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The agent as production runs it: with a job backend (the local file, in a
 * folder of its own) unless the test passes `jobs` — `jobs: undefined` for an
 * agent without a job system.
 */
export async function startAgent(
  o: { node: string; libvirtUri?: string; readOnly?: boolean; maxMessageBytes?: number } & Partial<AgentOptions>,
): Promise<Agent> {
  const transport = o.transport ?? new AmqpTransport({ endpoint: AMQP_URL, nodeId: o.node });
  const state = 'jobs' in o ? undefined : mkdtempSync(join(tmpdir(), `virtbus-agent-${o.node}-`));
  // as agent/main.ts does: save/restore files go there
  if (state) mkdirSync(join(state, 'save'));
  const agent = new Agent({
    libvirtUri: 'test:///default',
    log: createLogger(process.env.VIRTBUS_TEST_LOG ?? 'silent'),
    heartbeatS: 0,
    ...(state && {
      jobs: {
        backend: { type: 'local', stateDir: join(state, 'jobs') },
        saveDir: join(state, 'save'),
        progressIntervalMs: 200,
      },
    }),
    ...o,
    nodeId: o.node,
    transport,
  });
  if (state) agent.once('closed', () => rmSync(state, { recursive: true, force: true }));
  await agent.start();
  return agent;
}
