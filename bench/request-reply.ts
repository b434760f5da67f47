// Request/reply latency of the agent, next to a baseline measured in the same
// run: a bare amqplib echo (one consumer that answers every message) on the
// same broker. Run: npm run bench. Prints a table, or JSON with --json.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { Agent } from '../src/agent/agent';
import { AmqpTransport } from '../src/bus/amqp/transport';
import { createLogger } from '../src/log';

const URL = process.env.VIRTBUS_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const N = Number(process.env.VIRTBUS_BENCH_N ?? 500);

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function sequential(send: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await send(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    await send();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

async function main(): Promise<void> {
  const conn = await amqp.connect(URL, { noDelay: true });
  const ch = await conn.createChannel();
  const { queue: replyQ } = await ch.assertQueue('', { exclusive: true });
  const waiting = new Map<string, () => void>();
  await ch.consume(
    replyQ,
    (m) => {
      if (m) waiting.get(m.properties.correlationId)?.();
    },
    { noAck: true },
  );
  const request = (exchange: string, key: string, body: Buffer) => {
    const id = randomUUID();
    return new Promise<void>((resolve) => {
      waiting.set(id, () => {
        waiting.delete(id);
        resolve();
      });
      ch.publish(exchange, key, body, {
        correlationId: id,
        messageId: id,
        replyTo: replyQ,
        contentType: 'application/cloudevents+json',
      });
    });
  };

  // baseline: the cheapest possible responder on the same broker
  const echoConn = await amqp.connect(URL, { noDelay: true });
  const echo = await echoConn.createChannel();
  const { queue: echoQ } = await echo.assertQueue('', { exclusive: true });
  await echo.consume(
    echoQ,
    (m) => {
      if (m) echo.sendToQueue(m.properties.replyTo, m.content, { correlationId: m.properties.correlationId });
    },
    { noAck: true },
  );
  const baseline = stats(await sequential(() => request('', echoQ, Buffer.from('{}'))));

  const node = `bench-${process.pid}`;
  const agent = new Agent({
    nodeId: node,
    libvirtUri: 'test:///default',
    transport: new AmqpTransport({ endpoint: URL, nodeId: node }),
    log: createLogger('silent'),
    heartbeatS: 0,
  });
  await agent.start();
  const cmd = (type: string, data: unknown) =>
    Buffer.from(JSON.stringify({ specversion: '1.0', id: randomUUID(), source: 'bench', type, data }));
  const ping = stats(await sequential(() => request('virtbus.commands', node, cmd('virtbus.cmd.agent.ping', {}))));
  const get = stats(
    await sequential(() => request('virtbus.commands', node, cmd('virtbus.cmd.domain.get', { domain: 'test' }))),
  );
  const mem = process.memoryUsage();

  await agent.close();
  await ch.deleteQueue(`virtbus.cmd.${node}`).catch(() => undefined);
  await echoConn.close();
  await conn.close();

  const rows = [
    { case: 'baseline: bare amqplib echo', ...baseline },
    { case: 'agent.ping through the agent', ...ping },
    { case: 'domain.get (test driver)', ...get },
  ];
  if (process.argv.includes('--json')) {
    process.stdout.write(
      `${JSON.stringify({ n: N, rows, rssMiB: mem.rss / 2 ** 20, heapUsedMiB: mem.heapUsed / 2 ** 20 })}\n`,
    );
    return;
  }
  const f = (x: number) => x.toFixed(2).padStart(7);
  process.stdout.write(`sequential request/reply over RabbitMQ, ${N} requests each (ms)\n`);
  process.stdout.write(`${'case'.padEnd(32)}    p50     p90     p99    mean   vs baseline p50\n`);
  for (const r of rows)
    process.stdout.write(
      `${r.case.padEnd(32)}${f(r.p50)} ${f(r.p90)} ${f(r.p99)} ${f(r.mean)}   x${(r.p50 / baseline.p50).toFixed(1)}\n`,
    );
  process.stdout.write(
    `agent process after the run: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB\n`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
