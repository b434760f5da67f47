// The binding against libvirt's in-process test driver (no daemon needed).
import {
  Connection,
  LibvirtError,
  domainStateByUuid,
  operateDomain,
  domainSummary,
  listDomainStates,
  type LibvirtEvent,
  type LifecycleEvent,
} from '../../src/libvirt';
import { observeLibvirtCalls } from '../../src/libvirt/binding';
import { keptHandleCount } from '../../src/libvirt/kept-handles';
import { EventLog } from '../helpers/events';

const URI = 'test:///default';
const uniq = (p: string) => `${p}-${process.pid}-${Date.now().toString(36)}`;
const domainXml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

describe('Connection on test:///default', () => {
  let conn: Connection;
  let log: EventLog<LibvirtEvent>;

  beforeAll(async () => {
    conn = await Connection.open(URI);
    log = new EventLog<LibvirtEvent>(conn);
    const sub = await conn.subscribeEvents();
    expect(sub.registered).toEqual(
      expect.arrayContaining([
        'lifecycle',
        'device-removed',
        'job-completed',
        'migration-iteration',
        'pool-lifecycle',
        'pool-refresh',
        'network-lifecycle',
      ]),
    );
  });
  afterAll(async () => {
    await conn.close();
  });

  test('node and connection information', async () => {
    expect(await conn.isAlive()).toBe(true);
    expect(typeof (await conn.hostname())).toBe('string');
    expect(await conn.canonicalUri()).toBe(URI);
    expect(await conn.hypervisorType()).toBe('TEST');
    const v = await conn.libVersion();
    expect(v.major).toBeGreaterThanOrEqual(9);
    const info = await conn.nodeInfo();
    expect(info.cpus).toBeGreaterThan(0);
    expect(info.memoryKiB).toBeGreaterThan(0);
    expect(await conn.capabilities()).toContain('<capabilities>');
    expect((await conn.listDomains()).map((d) => d.name)).toContain('test');
  });

  test('a defined domain goes through its lifecycle with events in order', async () => {
    const name = uniq('life');
    const from = log.mark();
    const dom = await conn.defineDomain(domainXml(name));
    expect(dom.name).toBe(name);
    expect(await dom.isPersistent()).toBe(true);
    expect((await dom.state()).state).toBe('shutoff');
    await dom.start();
    expect((await dom.info()).state).toBe('running');
    await dom.suspend();
    expect(await dom.state()).toEqual({ state: 'paused', reason: 'user' });
    await dom.resume();
    await dom.destroy();
    await dom.undefine();
    await log.waitFor(
      (e) => e.type === 'lifecycle' && e.domain.name === name && e.event === 'undefined',
      'undefined event',
      5000,
      from,
    );
    const seen = log.all
      .slice(from)
      .filter((e): e is LifecycleEvent => e.type === 'lifecycle' && e.domain.name === name)
      .map((e) => `${e.event}/${e.detail}`);
    expect(seen).toEqual([
      'defined/added',
      'started/booted',
      'suspended/paused',
      'resumed/unpaused',
      'stopped/destroyed',
      'undefined/removed',
    ]);
    const first = log.all.slice(from).find((e) => e.type === 'lifecycle' && e.domain.name === name)!;
    expect((first as LifecycleEvent).domain.uuid).toBe(dom.uuid);
  });

  test('a transient domain vanishes when it stops', async () => {
    const name = uniq('transient');
    const dom = await conn.createDomain(domainXml(name));
    expect(await dom.isPersistent()).toBe(false);
    expect(await dom.isActive()).toBe(true);
    await dom.destroy();
    await expect(conn.domain(name)).rejects.toMatchObject({ codeName: 'VIR_ERR_NO_DOMAIN' });
  });

  test('lookup by UUID and by name, XML, device and vCPU changes', async () => {
    const name = uniq('xml');
    const dom = await conn.defineDomain(domainXml(name));
    try {
      expect((await conn.domain(dom.uuid)).name).toBe(name);
      expect((await conn.domain(name)).uuid).toBe(dom.uuid);
      expect(await dom.xml()).toContain(`<name>${name}</name>`);
      await dom.setAutostart(true);
      expect(await dom.autostart()).toBe(true);
      await dom.setMemory(32 * 1024, { config: true });
      expect((await dom.info()).memoryKiB).toBe(32 * 1024);
    } finally {
      await dom.undefine();
    }
  });

  test('an unknown domain is VIR_ERR_NO_DOMAIN', async () => {
    const err = await conn.domain('no-such-domain').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect(err).toMatchObject({
      code: 42,
      codeName: 'VIR_ERR_NO_DOMAIN',
      domainName: expect.stringMatching(/^VIR_FROM_/),
    });
    expect((err as LibvirtError).toJSON()).toMatchObject({ code: 42, name: 'VIR_ERR_NO_DOMAIN' });
  });

  test('listDomainStates lists every domain with what the single calls read, in one call; the filter as listDomains', async () => {
    const running = uniq('list-run');
    const off = uniq('list-off');
    const a = await conn.defineDomain(domainXml(running));
    const b = await conn.defineDomain(domainXml(off));
    try {
      await a.start();
      await a.suspend();
      const all = await listDomainStates(conn);
      const singles = await Promise.all(
        (await conn.listDomains()).map(async (d) => {
          const s = await d.state();
          return { uuid: d.uuid, name: d.name, id: d.id, ...s, persistent: await d.isPersistent() };
        }),
      );
      const byUuid = (x: Array<{ uuid: string }>) => [...x].sort((p, q) => p.uuid.localeCompare(q.uuid));
      expect(byUuid(all)).toEqual(byUuid(singles));
      expect(all.find((d) => d.name === running)).toMatchObject({ state: 'paused', reason: 'user', persistent: true });
      expect(all.find((d) => d.name === off)).toMatchObject({ state: 'shutoff', id: -1, persistent: true });
      const active = (await listDomainStates(conn, 'active')).map((d) => d.name);
      expect(active).toContain(running);
      expect(active).not.toContain(off);
      expect((await listDomainStates(conn, 'inactive')).map((d) => d.name)).toContain(off);
    } finally {
      await a.destroy().catch(() => undefined);
      await a.undefine().catch(() => undefined);
      await b.undefine().catch(() => undefined);
    }
  });

  test('domainSummary reads in one call what the single calls read, by name or UUID; domainStateByUuid likewise', async () => {
    const name = uniq('summary');
    const defined = await conn.defineDomain(domainXml(name));
    try {
      await defined.start();
      await defined.setAutostart(true);
      const one = await domainSummary(conn, name);
      const [info, state, persistent, autostart] = await Promise.all([
        defined.info(),
        defined.state(),
        defined.isPersistent(),
        defined.autostart(),
      ]);
      const fresh = await conn.domain(name);
      expect(one).toMatchObject({
        uuid: defined.uuid,
        name,
        id: fresh.id,
        state: state.state,
        reason: state.reason,
        maxMemoryKiB: info.maxMemoryKiB,
        memoryKiB: info.memoryKiB,
        vcpus: info.vcpus,
        persistent,
        autostart,
      });
      expect(one.id).toBeGreaterThan(0);
      expect(one.domain.uuid).toBe(defined.uuid); // a usable handle
      await one.domain.suspend();
      expect((await domainSummary(conn, defined.uuid)).state).toBe('paused');
      expect(await domainStateByUuid(conn, defined.uuid)).toEqual({ state: 'paused', reason: 'user' });
      await one.domain.destroy();
      expect((await domainSummary(conn, defined.uuid)).id).toBe(-1);
    } finally {
      await defined.destroy().catch(() => undefined);
      await defined.undefine().catch(() => undefined);
    }
    for (const missing of [name, '3c7c4c6a-0000-4000-8000-00000000dead']) {
      await expect(domainSummary(conn, missing)).rejects.toMatchObject({ codeName: 'VIR_ERR_NO_DOMAIN' });
    }
    await expect(domainStateByUuid(conn, '3c7c4c6a-0000-4000-8000-00000000dead')).rejects.toMatchObject({
      codeName: 'VIR_ERR_NO_DOMAIN',
    });
  });

  test('operateDomain: lookup, lifecycle operation and the state after in one call; a transient domain gone after it has no state', async () => {
    const name = uniq('operate');
    const d = await conn.defineDomain(domainXml(name));
    try {
      expect(await operateDomain(conn, name, { op: 'start' })).toEqual({ uuid: d.uuid, name, state: 'running' });
      expect(await operateDomain(conn, d.uuid, { op: 'suspend' })).toMatchObject({ state: 'paused' });
      expect(await operateDomain(conn, name, { op: 'resume' })).toMatchObject({ state: 'running' });
      expect(await operateDomain(conn, name, { op: 'destroy' })).toMatchObject({ state: 'shutoff' });
      expect(await operateDomain(conn, name, { op: 'start' })).toMatchObject({ state: 'running' });
      // a refused operation is libvirt's error, as from the single call
      const single = await d.start().then(
        () => undefined,
        (e: LibvirtError) => e.codeName,
      );
      await expect(operateDomain(conn, name, { op: 'start' })).rejects.toMatchObject({ codeName: single });
      await operateDomain(conn, name, { op: 'destroy' });
    } finally {
      await d.undefine().catch(() => undefined);
    }
    const transient = await conn.createDomain(domainXml(uniq('transient-op')));
    const gone = await operateDomain(conn, transient.uuid, { op: 'destroy' });
    expect(gone).toEqual({ uuid: transient.uuid, name: transient.name });
    await expect(operateDomain(conn, uniq('nope'), { op: 'suspend' })).rejects.toMatchObject({
      codeName: 'VIR_ERR_NO_DOMAIN',
    });
  });

  test('domainSummary and domainStateByUuid keep the handle of a lookup and check it against what the driver says now', async () => {
    const calls: string[] = [];
    const stop = observeLibvirtCalls((api) => calls.push(api));
    // test:///default is one driver per process: a second connection changes what the first sees
    const other = await Connection.open(URI);
    const name = uniq('kept');
    const [u1, u2] = ['6a1c0d5e-0000-4000-8000-0000000000a1', '6a1c0d5e-0000-4000-8000-0000000000a2'];
    const withUuid = (n: string, uuid: string) => domainXml(n).replace('</name>', `</name><uuid>${uuid}</uuid>`);
    const cleanup = async () => {
      for (const uuid of [u1, u2]) {
        const d = await other.domain(uuid).catch(() => undefined);
        await d?.destroy().catch(() => undefined);
        await d?.undefine().catch(() => undefined);
      }
    };
    try {
      await cleanup();
      const a = await other.defineDomain(withUuid(name, u1));
      await a.start();
      const first = await domainSummary(conn, name);
      expect(first).toMatchObject({ uuid: u1, name, state: 'running' });
      expect(first.id).toBeGreaterThan(0);
      // stopped by someone else: the kept handle still holds the old id; the summary does not
      await a.destroy();
      calls.length = 0;
      expect(await domainSummary(conn, name)).toMatchObject({
        uuid: u1,
        name,
        id: -1,
        state: 'shutoff',
        persistent: true,
      });
      expect(calls).toEqual(['domainSummaryOf']);
      // the name given to another domain, the UUID to a domain of another name: looked up again
      await a.undefine();
      await other.defineDomain(withUuid(uniq('renamed'), u1));
      await other.defineDomain(withUuid(name, u2));
      calls.length = 0;
      expect(await domainSummary(conn, name)).toMatchObject({ uuid: u2, name });
      expect(calls).toEqual(['domainSummaryOf', 'domainLookupSummary']);
      // gone: libvirt's error, as without a kept handle, and the handle is forgotten
      const before = keptHandleCount(conn);
      await (await other.domain(u2)).undefine();
      await expect(domainSummary(conn, name)).rejects.toMatchObject({ codeName: 'VIR_ERR_NO_DOMAIN' });
      expect(keptHandleCount(conn)).toBe(before - 1);
      // an event's state read: one lookup, then the kept handle (resolved by UUID: whatever the name)
      calls.length = 0;
      expect(await domainStateByUuid(conn, u1)).toEqual({ state: 'shutoff', reason: expect.any(String) });
      expect(await domainStateByUuid(conn, u1)).toMatchObject({ state: 'shutoff' });
      expect(calls).toEqual(['domainLookupState', 'domainGetState']);
      await (await other.domain(u1)).undefine();
      calls.length = 0;
      await expect(domainStateByUuid(conn, u1)).rejects.toMatchObject({ codeName: 'VIR_ERR_NO_DOMAIN' });
      expect(calls).toEqual(['domainGetState', 'domainLookupState']); // the kept handle tried first, then forgotten
      // persistence through a kept handle: a transient domain says so, and is gone once stopped
      const t = await other.createDomain(domainXml(uniq('kept-transient')));
      expect(await domainSummary(conn, t.uuid)).toMatchObject({ persistent: false, state: 'running' });
      calls.length = 0;
      expect(await domainSummary(conn, t.uuid)).toMatchObject({ uuid: t.uuid, persistent: false, state: 'running' });
      expect(calls).toEqual(['domainSummaryOf']);
      await t.destroy();
      await expect(domainSummary(conn, t.uuid)).rejects.toMatchObject({ codeName: 'VIR_ERR_NO_DOMAIN' });
    } finally {
      stop();
      await cleanup();
      await other.close();
    }
  });

  test('domainSummary of a name that looks like a UUID finds it by name', async () => {
    const name = '0fd1e5a2-6c4b-4f0e-9d1a-7c2b3a4e5f60';
    const d = await conn.defineDomain(domainXml(name));
    try {
      const s = await domainSummary(conn, name);
      expect(s.name).toBe(name);
      expect(s.uuid).toBe(d.uuid);
      expect(s.state).toBe('shutoff');
    } finally {
      await d.undefine().catch(() => undefined);
    }
  });

  test('a call the driver does not implement is VIR_ERR_NO_SUPPORT (virDomainMigrateGetMaxDowntime on the test driver)', async () => {
    const err = await (await conn.domain('test')).migrationMaxDowntimeMs().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect(err).toMatchObject({
      code: 3,
      codeName: 'VIR_ERR_NO_SUPPORT',
      message: expect.stringContaining('virDomainMigrateGetMaxDowntime'),
    });
  });

  test('storage pool and volume create/delete', async () => {
    const name = uniq('pool');
    const from = log.mark();
    const pool = await conn.defineStoragePool(
      `<pool type='dir'><name>${name}</name><target><path>/tmp/${name}</path></target></pool>`,
    );
    await pool.start();
    expect((await pool.info()).state).toBe('running');
    const vol = await pool.createVolume(`<volume><name>v1.img</name><capacity unit='MiB'>10</capacity></volume>`);
    expect(vol.name).toBe('v1.img');
    expect((await vol.info()).capacity).toBe(10 * 1024 * 1024);
    expect((await pool.volumes()).map((v) => v.name)).toEqual(['v1.img']);
    const clone = await pool.cloneVolume(`<volume><name>v2.img</name><capacity unit='MiB'>10</capacity></volume>`, vol);
    expect(await clone.path()).toContain('v2.img');
    await clone.delete();
    await vol.delete();
    expect(await pool.volumes()).toEqual([]);
    await pool.destroy();
    await pool.undefine();
    await log.waitFor(
      (e) => e.type === 'pool-lifecycle' && e.pool.name === name && e.event === 'undefined',
      'pool undefined',
      5000,
      from,
    );
    const kinds = log.all
      .slice(from)
      .filter((e) => e.type === 'pool-lifecycle' && e.pool.name === name)
      .map((e) => (e as { event: string }).event);
    expect(kinds).toEqual(['defined', 'started', 'stopped', 'undefined']);
  });

  test('network define/start/destroy with events', async () => {
    const name = uniq('net').slice(0, 15);
    const from = log.mark();
    const net = await conn.defineNetwork(
      `<network><name>${name}</name><bridge name='vb${process.pid % 10000}'/></network>`,
    );
    await net.start();
    expect(await net.isActive()).toBe(true);
    await net.destroy();
    expect(await net.isActive()).toBe(false);
    await net.undefine();
    await log.waitFor(
      (e) => e.type === 'network-lifecycle' && e.network.name === name && e.event === 'undefined',
      'network undefined',
      5000,
      from,
    );
    const kinds = log.all
      .slice(from)
      .filter((e) => e.type === 'network-lifecycle' && e.network.name === name)
      .map((e) => (e as { event: string }).event);
    expect(kinds).toEqual(['defined', 'started', 'stopped', 'undefined']);
  });

  test('close is idempotent and a closed connection refuses calls', async () => {
    const c = await Connection.open(URI);
    await c.subscribeEvents();
    await c.close();
    await c.close();
    await expect(c.hostname()).rejects.toThrow(/closed/);
  });
});

describe('read-only connection', () => {
  test('reads work, every write is refused with VIR_ERR_OPERATION_DENIED', async () => {
    const ro = await Connection.openReadOnly(URI);
    try {
      expect(ro.readOnly).toBe(true);
      expect((await ro.listDomains()).length).toBeGreaterThan(0);
      await expect(ro.defineDomain(domainXml(uniq('ro')))).rejects.toMatchObject({
        codeName: 'VIR_ERR_OPERATION_DENIED',
      });
      const dom = await ro.domain('test');
      await expect(dom.suspend()).rejects.toMatchObject({ codeName: 'VIR_ERR_OPERATION_DENIED' });
      await expect(
        ro.defineStoragePool(`<pool type='dir'><name>x</name><target><path>/tmp/x</path></target></pool>`),
      ).rejects.toMatchObject({ codeName: 'VIR_ERR_OPERATION_DENIED' });
      expect((await dom.state()).state).toBe('running');
    } finally {
      await ro.close();
    }
  });
});
