// The binding against the lab's real libvirtd (qemu:///system) and the
// minimal Linux guest booted under QEMU.
import { Connection, StoragePool, type LibvirtEvent, type LifecycleEvent } from '../../src/libvirt';
import { EventLog, eventually } from '../helpers/events';
import { cleanupAll } from '../helpers/cleanup';
import {
  NODE1_URI,
  guestXml,
  labPoolXml,
  labUniq,
  openNode,
  removeGuest,
  removePool,
  virsh,
  waitGuestReady,
} from '../helpers/lab';

const isLifecycle = (name: string, event: string, detail?: string) => (e: LibvirtEvent) =>
  e.type === 'lifecycle' &&
  e.domain.name === name &&
  e.event === event &&
  (detail === undefined || e.detail === detail);

describe('real libvirtd (qemu:///system) with the minimal guest', () => {
  let conn: Connection;
  let log: EventLog<LibvirtEvent>;
  let pool: StoragePool;
  const name = labUniq('guest');
  const poolName = labUniq('pool');

  beforeAll(async () => {
    conn = await openNode(NODE1_URI);
    log = new EventLog<LibvirtEvent>(conn);
    await conn.subscribeEvents();
    pool = await conn.createStoragePool(labPoolXml(poolName), { build: true });
  });

  afterAll(() =>
    cleanupAll([
      ['remove the guest', () => removeGuest(name, { node1: conn })],
      ['remove the pool and its directory', () => removePool(conn, poolName)],
      ['close node 1', () => conn?.close()],
    ]),
  );

  test('boot, hot-plug a qcow2 volume, unplug it, outside changes, ACPI shutdown', async () => {
    const from = log.mark();
    await conn.defineDomain(guestXml(name));
    const dom = await conn.domain(name);
    await dom.start();
    await log.waitFor(isLifecycle(name, 'started', 'booted'), 'started/booted', 30000, from);
    await waitGuestReady(name);

    // a qcow2 volume, created through the binding
    const vol = await pool.createVolume(
      `<volume><name>data.qcow2</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>`,
    );
    const path = await vol.path();
    const disk =
      `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${path}'/>` +
      `<target dev='vdb' bus='virtio'/></disk>`;
    await dom.attachDevice(disk, { live: true });
    const xml = await dom.xml();
    expect(xml).toContain(`<target dev='vdb' bus='virtio'/>`);
    expect(xml).toContain(path);

    const beforeDetach = log.mark();
    await dom.detachDevice(disk, { live: true });
    const removed = await log.waitFor(
      (e) => e.type === 'device-removed' && e.domain.name === name,
      'device-removed',
      60000,
      beforeDetach,
    );
    expect(removed).toMatchObject({
      type: 'device-removed',
      devAlias: 'virtio-disk1',
      domain: { name, uuid: dom.uuid },
    });
    expect(await dom.xml()).not.toContain(path);

    // changes made with virsh, outside the binding, arrive as events
    const beforeVirsh = log.mark();
    virsh(NODE1_URI, 'suspend', name);
    await log.waitFor(isLifecycle(name, 'suspended', 'paused'), 'suspended/paused from virsh', 10000, beforeVirsh);
    virsh(NODE1_URI, 'resume', name);
    await log.waitFor(isLifecycle(name, 'resumed', 'unpaused'), 'resumed/unpaused from virsh', 10000, beforeVirsh);

    // ACPI shutdown; a request that arrives too early can be ignored by the
    // guest, so it is repeated until the guest powers off.
    const beforeShutdown = log.mark();
    const stopped = eventually(
      async () => log.all.slice(beforeShutdown).find(isLifecycle(name, 'stopped')),
      'stopped after ACPI shutdown',
      90000,
      250,
    );
    let done = false;
    void stopped.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    while (!done) {
      await dom.shutdown('acpi').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 5000));
    }
    const ev = (await stopped) as LifecycleEvent;
    expect(ev.detail).toBe('shutdown');
    expect((await dom.state()).state).toBe('shutoff');
    await vol.delete();
  });
});
