#!/usr/bin/env node
// Worked example from the README: a plain AMQP client (no virtbus code)
// sends domain.start to a node and prints the domain's lifecycle events.
//   node examples/start-domain.mjs <node-id> <domain> [amqp-url]
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';

const [node, domain, url = 'amqp://guest:guest@127.0.0.1:5672'] = process.argv.slice(2);
if (!node || !domain) {
  console.error('usage: node examples/start-domain.mjs <node-id> <domain> [amqp-url]');
  process.exit(2);
}

const conn = await amqp.connect(url, { noDelay: true });
const ch = await conn.createChannel();
// One private queue receives both the reply and the node's domain events.
const { queue } = await ch.assertQueue('', { exclusive: true });
await ch.bindQueue(queue, 'virtbus.events', `v1.${node}.domain.*.lifecycle`);

const id = randomUUID();
// Done once both the reply and the started event are in (either may come first).
const done = new Promise((resolve) => {
  let replied = false;
  let started = false;
  ch.consume(
    queue,
    (msg) => {
      const ce = JSON.parse(msg.content.toString());
      if (msg.properties.correlationId === id) {
        console.log('reply', JSON.stringify(ce.data));
        if (!ce.data.ok) resolve(1);
        replied = true;
      } else if (ce.data.domain?.name === domain || ce.data.domain?.uuid === domain) {
        console.log('event', ce.data.event, ce.data.detail, `seq=${ce.data.seq}`, `state=${ce.data.state}`);
        if (ce.data.event === 'started') started = true;
      }
      if (replied && started) resolve(0);
    },
    { noAck: true },
  );
});

const command = {
  specversion: '1.0',
  id,
  source: 'example-orchestrator',
  type: 'virtbus.cmd.domain.start',
  time: new Date().toISOString(),
  data: { domain },
};
ch.publish('virtbus.commands', node, Buffer.from(JSON.stringify(command)), {
  contentType: 'application/cloudevents+json',
  messageId: id,
  correlationId: id,
  replyTo: queue,
});

const timeout = setTimeout(() => {
  console.error('no answer in 15 s: is the agent running for node', node, '?');
  process.exit(1);
}, 15000);
const code = await done;
clearTimeout(timeout);
await conn.close();
process.exit(code);
