// Killing and restarting the lab's libvirtd: the wrapper notices, reconnects
// with backoff, re-registers events, and events flow again.
import { ReconnectingConnection, type LibvirtEvent } from '../../src/libvirt';
import { EventLog } from '../helpers/events';
import { NODE1_URI, NODE2_URI, guestXml, lab, labUniq, removeDomain } from '../helpers/lab';

describe.each([
  ['node1', NODE1_URI],
  ['node2', NODE2_URI],
])('ReconnectingConnection to lab %s', (node, uri) => {
  let rc: ReconnectingConnection;
  const name = labUniq('recon');

  afterAll(async () => {
    // the domain the test defines and undefines, in case it failed in between
    if (rc?.connected) await removeDomain(rc.connection, name);
    await rc?.close();
  });

  test('reconnects after libvirtd is killed and restarted, and events flow again', async () => {
    rc = new ReconnectingConnection(uri, { backoff: { initialMs: 100, maxMs: 1000 }, probeIntervalMs: 500 });
    const log = new EventLog<LibvirtEvent>(rc);
    const states: string[] = [];
    rc.on('disconnected', ({ reason }) => states.push(`disconnected:${reason}`));
    rc.on('reconnected', () => states.push('reconnected'));
    await rc.start().catch((e) => {
      throw new Error(`lab ${node} (${uri}) not reachable (${e}); start it: bash deploy/lab/lab.sh up`);
    });

    const reconnected = new Promise<void>((resolve) => rc.once('reconnected', () => resolve()));
    lab(`restart-${node}`);
    await reconnected;
    expect(states[0]).toMatch(/^disconnected:/);
    expect(states).toContain('reconnected');
    expect(rc.connected).toBe(true);

    const from = log.mark();
    const dom = await rc.connection.defineDomain(guestXml(name));
    await dom.undefine();
    await log.waitFor(
      (e) => e.type === 'lifecycle' && e.domain.name === name && e.event === 'undefined',
      'events after reconnect',
      10000,
      from,
    );
    expect(rc.lastSubscription?.registered).toContain('lifecycle');
  });
});
