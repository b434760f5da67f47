// SDK example: typed calls and errors.
//   node dist/examples/sdk/call.js <bus-url> <node-id>
// In your program: import { connect, VirtbusError } from '@virtbus/client';
import { connect, VirtbusError } from '../../src/client';

async function main(bus: string, node: string): Promise<void> {
  const v = await connect({ bus, node });
  try {
    // data and result are typed by the contract: domain.get needs { domain }
    const dom = await v.call('domain.get', { domain: 'test' });
    console.log(`domain ${dom.name} ${dom.uuid} is ${dom.state}`);
    const info = await v.call('node.info');
    console.log(`node ${node}: ${info.uri}`);
    try {
      await v.call('domain.get', { domain: 'no-such-domain' });
    } catch (e) {
      if (!(e instanceof VirtbusError)) throw e;
      console.log(`error ${e.code}${e.libvirt ? ` (${e.libvirt.name})` : ''}`);
    }
  } finally {
    await v.close();
  }
}

const [bus, node] = process.argv.slice(2);
if (!bus || !node) {
  console.error('usage: call.js <bus-url> <node-id>');
  process.exit(2);
}
main(bus, node).catch((e) => {
  console.error(String(e));
  process.exit(1);
});
