// SDK example: a node's domain lifecycle events as an async iterator, for a
// few seconds (an AbortSignal ends it); gaps in seq are reported on events.
//   node dist/examples/sdk/events.js <bus-url> <node-id> [seconds]
// In your program: import { connect } from '@virtbus/client';
import { connect } from '../../src/client';

async function main(bus: string, node: string, seconds: number): Promise<void> {
  const v = await connect({ bus, node });
  try {
    const stream = v.events({ object: 'domain', event: 'lifecycle', signal: AbortSignal.timeout(seconds * 1000) });
    await stream.ready;
    console.log('listening');
    for await (const e of stream) {
      const d = e.data as { domain: { name: string }; event: string; seq: number };
      console.log(
        `${e.node} ${d.domain.name} ${d.event} seq=${d.seq}${e.gap ? ` (missed ${e.gap.got - e.gap.expected})` : ''}`,
      );
    }
    console.log('done');
  } finally {
    await v.close();
  }
}

const [bus, node, seconds = '5'] = process.argv.slice(2);
if (!bus || !node) {
  console.error('usage: events.js <bus-url> <node-id> [seconds]');
  process.exit(2);
}
main(bus, node, Number(seconds)).catch((e) => {
  console.error(String(e));
  process.exit(1);
});
