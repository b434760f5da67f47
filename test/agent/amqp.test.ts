// What only AMQP has: message_id/correlation_id properties. (The shared
// end-to-end suite over every transport is e2e.test.ts.)
import { randomUUID } from 'node:crypto';
import type { Agent } from '../../src/agent/agent';
import { missingHandlers } from '../../src/commands/registry';
import { JOB_KINDS } from '../../src/jobs/kinds';
import { TestClient, deleteNodeQueues } from '../helpers/amqp-client';
import { startAgent, testNode } from '../helpers/agent';

describe('agent over RabbitMQ: AMQP specifics', () => {
  const node = testNode('amqp');
  let agent: Agent;
  let client: TestClient;

  beforeAll(async () => {
    client = await TestClient.connect();
    // an agent without a job system: long-running commands are UNSUPPORTED
    agent = await startAgent({ node, jobs: undefined });
  });
  afterAll(async () => {
    await agent?.close();
    await client?.close();
    await deleteNodeQueues(node);
  });

  test('differing message_id and correlation_id are refused', async () => {
    const id = randomUUID();
    client.send(node, JSON.stringify({ specversion: '1.0', id, source: 't', type: 'virtbus.cmd.agent.ping' }), {
      messageId: id,
      correlationId: `${id}-x`,
      replyTo: client.replyQueue,
    });
    expect((await client.replyTo(`${id}-x`, 'reply')).body.data.error.code).toBe('BAD_REQUEST');
  });

  test('long-running commands are UNSUPPORTED on an agent without a job system', async () => {
    const longRunning = [...new Set(JOB_KINDS.filter((k) => !k.when).flatMap((k) => k.commands))];
    expect(longRunning).toEqual(expect.arrayContaining(['domain.migrate', 'domain.save', 'vol.clone']));
    for (const c of longRunning) {
      expect([c, (await client.call(node, c, {})).data.error.code]).toEqual([c, 'UNSUPPORTED']);
    }
  });

  test('every command of the contract is implemented or marked planned', () => {
    expect(missingHandlers()).toEqual([]);
  });
});
