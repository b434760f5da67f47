// Shutting down while the broker is unreachable: close() must end within its
// bounds (drain, event flush, offline event), not wait for confirms that can
// never come. The broker is reached through a TCP relay that the test stops
// for good; the system RabbitMQ is never touched.
import { once } from 'node:events';
import * as net from 'node:net';
import { AmqpTransport } from '../../src/bus/amqp/transport';
import { startAgent, testNode } from '../helpers/agent';
import { AMQP_URL, deleteNodeQueues } from '../helpers/amqp-client';

/** A relay to RabbitMQ; stop() closes it and every connection through it. */
async function relay(): Promise<{ url: string; stop: () => Promise<void> }> {
  const broker = new URL(AMQP_URL);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(broker.port || 5672), broker.hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const u = new URL(AMQP_URL);
  u.hostname = '127.0.0.1';
  u.port = String((server.address() as net.AddressInfo).port);
  return {
    url: u.toString(),
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test('close() ends within its bounds while the broker is unreachable, with events still unconfirmed', async () => {
  const node = testNode('offline-stop');
  const r = await relay();
  let stopped = false;
  try {
    const agent = await startAgent({
      node,
      transport: new AmqpTransport({ endpoint: r.url, nodeId: node, backoff: { initialMs: 50, maxMs: 200 } }),
      drainMs: 1000,
      closeTimeoutMs: 1000,
    });
    await r.stop();
    stopped = true;
    // events that can only wait for a broker that does not come back
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < 20; i++) {
      const p = agent.publisher.enqueue({ object: 'agent', id: node, event: 'heartbeat', data: { node } });
      pending.push(
        p.then(
          () => 'confirmed',
          (e: Error) => e.name,
        ),
      );
    }
    const t0 = Date.now();
    await agent.close();
    const took = Date.now() - t0;
    // drainMs bounds the whole close (commands, flush, offline, closing), with room for timers to fire
    expect(took).toBeLessThan(2000);
    // the events that could not reach the broker are rejected, not left waiting
    expect(new Set(await Promise.all(pending))).toEqual(new Set(['TransportClosedError']));
  } finally {
    if (!stopped) await r.stop();
    await deleteNodeQueues(node);
  }
});
