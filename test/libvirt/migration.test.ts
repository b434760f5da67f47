// Live peer-to-peer migration of the real guest between the lab's two
// libvirt nodes, through the binding. Each test boots its own guest and
// removes it from both nodes afterwards, even when it failed mid-migration.
import { Connection, type LibvirtEvent, type LifecycleEvent } from '../../src/libvirt';
import { cleanupAll } from '../helpers/cleanup';
import { EventLog } from '../helpers/events';
import {
  NODE1_URI,
  NODE2_MIGRATE_URI,
  NODE2_URI,
  guestXml,
  labUniq,
  openNode,
  removeGuest,
  waitGuestReady,
} from '../helpers/lab';

describe('two lab nodes', () => {
  let node1: Connection;
  let node2: Connection;
  let log1: EventLog<LibvirtEvent>;
  let log2: EventLog<LibvirtEvent>;
  const guests: string[] = [];
  const newGuest = () => {
    const name = labUniq('mig');
    guests.push(name);
    return name;
  };

  beforeAll(async () => {
    node1 = await openNode(NODE1_URI);
    node2 = await openNode(NODE2_URI);
    log1 = new EventLog<LibvirtEvent>(node1);
    log2 = new EventLog<LibvirtEvent>(node2);
    await node1.subscribeEvents();
    await node2.subscribeEvents();
  });

  // a failed test may leave its migration running: abort it, remove the guest from both nodes
  afterEach(() => cleanupAll(guests.splice(0).map((g) => [`remove ${g}`, () => removeGuest(g, { node1, node2 })])));

  afterAll(() =>
    cleanupAll([
      ['close node 1', () => node1?.close()],
      ['close node 2', () => node2?.close()],
    ]),
  );

  test('the migration max downtime is set and read back (virDomainMigrateSetMaxDowntime / GetMaxDowntime)', async () => {
    const name = newGuest();
    const dom = await node1.createDomain(guestXml(name));
    const before = await dom.migrationMaxDowntimeMs();
    expect(before).toBeGreaterThan(0); // QEMU's default, 300 ms
    await dom.setMigrationMaxDowntime(before + 477);
    expect(await dom.migrationMaxDowntimeMs()).toBe(before + 477);
  });

  test('live-migrates the running guest from node 1 to node 2 with events on both', async () => {
    const name = newGuest();
    expect(await node1.hostname()).not.toBe(await node2.hostname());
    const dom = await node1.createDomain(guestXml(name));
    await log1.waitFor(
      (e) => e.type === 'lifecycle' && e.domain.name === name && e.event === 'started',
      'started on node 1',
    );
    await waitGuestReady(name);

    await dom.migrate({ destinationUri: NODE2_URI, migrateUri: NODE2_MIGRATE_URI, live: true });

    const lifecycle = (log: EventLog<LibvirtEvent>) =>
      log.all
        .filter((e): e is LifecycleEvent => e.type === 'lifecycle' && e.domain.name === name)
        .map((e) => `${e.event}/${e.detail}`);
    await log1.waitFor(
      (e) => e.type === 'lifecycle' && e.domain.name === name && e.event === 'stopped',
      'stopped on node 1',
    );
    await log2.waitFor(
      (e) => e.type === 'lifecycle' && e.domain.name === name && e.event === 'resumed',
      'resumed on node 2',
    );
    await log1.waitFor((e) => e.type === 'job-completed' && e.domain.name === name, 'job-completed on node 1');

    expect(lifecycle(log1)).toEqual(expect.arrayContaining(['suspended/migrated', 'stopped/migrated']));
    expect(lifecycle(log1).indexOf('suspended/migrated')).toBeLessThan(lifecycle(log1).indexOf('stopped/migrated'));
    expect(lifecycle(log2)).toEqual(expect.arrayContaining(['started/migrated', 'resumed/migrated']));
    const completed = log1.all.find((e) => e.type === 'job-completed' && e.domain.name === name) as Extract<
      LibvirtEvent,
      { type: 'job-completed' }
    >;
    expect(completed.params).toHaveProperty('time_elapsed');
    expect(completed.params).toHaveProperty('downtime');

    const moved = await node2.domain(name);
    expect((await moved.state()).state).toBe('running');
    await expect(node1.domain(name)).rejects.toMatchObject({ codeName: 'VIR_ERR_NO_DOMAIN' });
  });
});
