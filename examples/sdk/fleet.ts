// SDK example: the fleet from presence, then one command to every node of it
// with one outcome per node (reply, error, or no reply in time).
//   node dist/examples/sdk/fleet.js <bus-url>
// In your program: import { connect } from '@virtbus/client';
import { connect } from '../../src/client';

async function main(bus: string): Promise<void> {
  const v = await connect({ bus });
  try {
    const nodes = (await v.nodes()).filter((n) => n.status === 'online');
    console.log(`online: ${nodes.map((n) => n.node).join(' ')}`);
    const outcomes = await v.fleetCall('domain.list', {}, { nodes: nodes.map((n) => n.node), timeoutMs: 5000 });
    for (const o of outcomes) {
      if (o.outcome === 'ok')
        console.log(`${o.node} ok ${(o.result as { domains: unknown[] }).domains.length} domains`);
      else if (o.outcome === 'error') console.log(`${o.node} error ${o.error.code}`);
      else console.log(`${o.node} no reply`);
    }
  } finally {
    await v.close();
  }
}

const [bus] = process.argv.slice(2);
if (!bus) {
  console.error('usage: fleet.js <bus-url>');
  process.exit(2);
}
main(bus).catch((e) => {
  console.error(String(e));
  process.exit(1);
});
