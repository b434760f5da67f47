// SDK example: a long-running command as a Job — its progress as it comes,
// its result at the end (domain.save, then domain.restore).
//   node dist/examples/sdk/job.js <bus-url> <node-id> <domain>
// In your program: import { connect } from '@virtbus/client';
import { connect } from '../../src/client';

async function main(bus: string, node: string, domain: string): Promise<void> {
  const v = await connect({ bus, node });
  try {
    const save = await v.call('domain.save', { domain, path: `${domain}.example.img` });
    console.log(`job ${save.id} started`);
    for await (const p of save.progress) console.log(`progress ${p.state} ${JSON.stringify(p.progress)}`);
    const saved = await save.result;
    console.log(`saved ${saved.name} to ${saved.path}`);
    const restore = await v.call('domain.restore', { path: `${domain}.example.img` });
    const restored = await restore.result;
    console.log(`restored ${restored.name}: ${restored.state}`);
  } finally {
    await v.close();
  }
}

const [bus, node, domain = 'test'] = process.argv.slice(2);
if (!bus || !node) {
  console.error('usage: job.js <bus-url> <node-id> [domain]');
  process.exit(2);
}
main(bus, node, domain).catch((e) => {
  console.error(String(e));
  process.exit(1);
});
