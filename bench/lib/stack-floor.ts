// The idle-RSS row's second baseline, run as a child process: what the fixed
// stack holds resident before any of the agent's own code runs — Node 20,
// our libvirt addon (libvirt and the ~55 libraries it links) with a
// test:///default connection open, and amqplib with a channel on the bench's
// broker — given back its start-up memory the way the agent is
// (src/ops/memory.ts). The agent's idle RSS minus this is what the agent's
// code, state and other libraries cost. Usage: node stack-floor.js AMQP_URL
import amqp from 'amqplib';
import { native } from '../../src/libvirt/binding';
import { releaseStartupMemory } from '../../src/ops/memory';

async function main(url: string): Promise<void> {
  const conn = await native.connectOpen('test:///default', 0, undefined, 5, 3);
  await native.nodeGetInfo(conn);
  const bus = await amqp.connect(url);
  await bus.createChannel();
  releaseStartupMemory();
  console.log('ready');
  setInterval(() => undefined, 1000);
}

main(process.argv[2] ?? 'amqp://guest:guest@127.0.0.1:5672').catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
