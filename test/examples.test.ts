// The README's worked example works as written.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deleteNodeQueues, TestClient, AMQP_URL } from './helpers/amqp-client';
import { startAgent, testNode } from './helpers/agent';

test('examples/start-domain.mjs starts a domain and prints its lifecycle events', async () => {
  const node = testNode('example');
  const agent = await startAgent({ node });
  const client = await TestClient.connect();
  try {
    const name = `example-${node}`;
    const xml = `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`;
    expect((await client.call(node, 'domain.define', { xml })).data.ok).toBe(true);
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(__dirname, '..', 'examples', 'start-domain.mjs'),
      node,
      name,
      AMQP_URL,
    ]);
    expect(stdout).toMatch(
      new RegExp(`^reply \\{"ok":true,"result":\\{"uuid":"[^"]+","name":"${name}","state":"running"\\}\\}$`, 'm'),
    );
    expect(stdout).toMatch(/^event started booted seq=\d+ state=running$/m);
    await client.call(node, 'domain.destroy', { domain: name });
    await client.call(node, 'domain.undefine', { domain: name });
  } finally {
    await client.close();
    await agent.close();
    await deleteNodeQueues(node);
  }
});
