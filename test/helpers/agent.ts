// Runs the real agent in the test process, on a unique node id.
import { Agent, type AgentOptions } from '../../src/agent/agent';
import { AmqpTransport } from '../../src/bus/amqp/transport';
import { createLogger } from '../../src/log';
import { AMQP_URL } from './amqp-client';

let n = 0;
export function testNode(prefix = 't'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${n++}`;
}

export const REDIS_URL = process.env.VIRTBUS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function startAgent(o: { node: string; libvirtUri?: string; readOnly?: boolean; maxMessageBytes?: number } & Partial<AgentOptions>): Promise<Agent> {
  const transport = o.transport ?? new AmqpTransport({ url: AMQP_URL, nodeId: o.node });
  const agent = new Agent({
    libvirtUri: 'test:///default', log: createLogger(process.env.VIRTBUS_TEST_LOG ?? 'silent'), heartbeatS: 0,
    ...o, nodeId: o.node, transport,
  });
  await agent.start();
  return agent;
}
