// Child-process entry of the baselines, so that they, like the agent, do not
// share a JS thread with the load generator:
//   node dist/bench/responder.js amqp-echo URL QUEUE PREFETCH
//   node dist/bench/responder.js mqtt-echo URL TOPIC RECEIVE_MAXIMUM
//   node dist/bench/responder.js amqp-standin URL QUEUE EXCHANGE PREFETCH
// Prints {"msg":"ready"} (the stand-in: {"msg":"consuming","at":epoch ms}) and stops on SIGTERM.
import { runAmqpEcho } from './lib/echo-amqp';
import { runMqttEcho } from './lib/echo-mqtt';
import { runAmqpStandin } from './lib/standin-amqp';

const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  const [kind, url, a, b, c] = process.argv.slice(2);
  let close: () => Promise<void>;
  switch (kind) {
    case 'amqp-echo':
      close = await runAmqpEcho({ url, queue: a, prefetch: Number(b) });
      break;
    case 'mqtt-echo':
      close = await runMqttEcho({ url, topic: a, receiveMaximum: Number(b) });
      break;
    case 'amqp-standin':
      close = await runAmqpStandin({ url, queue: a, exchange: b, prefetch: Number(c) }, () =>
        say({ msg: 'consuming', at: performance.timeOrigin + performance.now() }),
      );
      break;
    default:
      throw new Error(`unknown responder '${kind}'`);
  }
  say({ msg: 'ready' });
  const stop = () => {
    void close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write(`responder: ${String((e as Error)?.stack ?? e)}\n`);
  process.exit(1);
});
