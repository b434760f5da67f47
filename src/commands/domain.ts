import type { CommandResult } from '../contract/commands';
import { CommandError } from '../errors';
import {
  domainStateByUuid,
  domainSummary,
  listDomainStates,
  isLibvirtError,
  operateDomain,
  type Connection,
  type Domain,
  type LifecycleRequest,
} from '../libvirt';
import type { ShutdownMode } from '../libvirt/flags';
import type { HandlerTable } from './context';
import { diskXml, findDisk, findInterface, interfaceXml, randomMac } from '../libvirt/xml';

type StateResult = CommandResult<'domain.start'>;

/** The domain's state after an operation; a domain that vanished (transient, undefined) is shutoff. */
async function stateAfter(dom: Domain, conn: Connection): Promise<StateResult> {
  const { uuid, name } = dom;
  try {
    return { uuid, name, state: (await domainStateByUuid(conn, uuid)).state };
  } catch (e) {
    if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) return { uuid, name, state: 'shutoff' };
    throw e;
  }
}

function simple(op: (dom: Domain, data: never) => Promise<void>) {
  return async (data: { domain: string }, { conn }: { conn: Connection }): Promise<StateResult> => {
    const dom = await conn.domain(data.domain);
    await op(dom, data as never);
    return stateAfter(dom, conn);
  };
}

/** A lifecycle operation in one hop to libvirt's worker: lookup, operation, state after. */
function lifecycle<D>(request: (data: D) => LifecycleRequest) {
  return async (data: { domain: string } & D, { conn }: { conn: Connection }): Promise<StateResult> => {
    const r = await operateDomain(conn, data.domain, request(data));
    // gone after it (a transient domain stopped): shut off
    return { uuid: r.uuid, name: r.name, state: r.state ?? 'shutoff' };
  };
}

export const domainHandlers: HandlerTable = {
  'domain.list': async (data, { conn }) => {
    // one hop for the whole list (gone ones left out), not three per domain
    const domains = await listDomainStates(conn, data.state ?? 'all');
    return {
      domains: domains.map((d) => ({ uuid: d.uuid, name: d.name, id: d.id, state: d.state, persistent: d.persistent })),
    };
  },
  'domain.get': async (data, { conn }) => {
    // one hop to the worker pool (lookup, info, state, persistence, autostart)
    const s = await domainSummary(conn, data.domain);
    return {
      uuid: s.uuid,
      name: s.name,
      id: s.id,
      state: s.state,
      reason: s.reason,
      memoryKiB: s.memoryKiB,
      maxMemoryKiB: s.maxMemoryKiB,
      vcpus: s.vcpus,
      cpuTimeNs: s.cpuTimeNs,
      persistent: s.persistent,
      autostart: s.autostart ?? false,
    };
  },
  'domain.xml': async (data, { conn }) => ({
    xml: await (await conn.domain(data.domain)).xml({ inactive: data.inactive }),
  }),
  'domain.define': async (data, { conn }) => {
    const d = await conn.defineDomain(data.xml, { validate: true });
    return { uuid: d.uuid, name: d.name };
  },
  'domain.create': async (data, { conn }) => {
    const d = await conn.createDomain(data.xml, { paused: data.paused });
    return { uuid: d.uuid, name: d.name };
  },
  'domain.undefine': simple((d, o: { managedSave?: boolean; snapshotsMetadata?: boolean; nvram?: boolean }) =>
    d.undefine(o),
  ),
  'domain.start': lifecycle((o: { paused?: boolean }) => ({ op: 'start', paused: o.paused })),
  'domain.shutdown': lifecycle((o: { mode?: string }) => ({
    op: 'shutdown',
    mode: o.mode as ShutdownMode | undefined,
  })),
  'domain.reboot': lifecycle((o: { mode?: string }) => ({ op: 'reboot', mode: o.mode as ShutdownMode | undefined })),
  'domain.destroy': lifecycle((o: { graceful?: boolean }) => ({ op: 'destroy', graceful: o.graceful })),
  'domain.suspend': lifecycle(() => ({ op: 'suspend' })),
  'domain.resume': lifecycle(() => ({ op: 'resume' })),

  'domain.attachDisk': async (data, { conn }) => {
    const dom = await conn.domain(data.domain);
    let path: string;
    let format = data.format;
    let kind: 'file' | 'block' = 'file';
    if ('path' in data.source) {
      path = data.source.path;
    } else {
      const vol = await (await conn.storagePool(data.source.pool)).volume(data.source.volume);
      path = await vol.path();
      const info = await vol.info();
      if (info.type === 'block') kind = 'block';
      format ??= (await vol.xml()).match(/<format type=['"]([^'"]+)['"]/)?.[1] as 'raw' | 'qcow2' | undefined;
    }
    const active = await dom.isActive();
    const live = data.live ?? active;
    const config = data.config ?? !active;
    if (!live && !config) throw new CommandError('BAD_REQUEST', 'live and config are both false: nothing to change');
    await dom.attachDevice(
      diskXml({
        path,
        target: data.target,
        bus: data.bus ?? 'virtio',
        format: format ?? 'raw',
        readonly: !!data.readonly,
        kind,
      }),
      { live, config },
    );
    return { target: data.target };
  },
  'domain.detachDisk': async (data, { conn }) => {
    const dom = await conn.domain(data.domain);
    const active = await dom.isActive();
    const live = data.live ?? active;
    const config = data.config ?? !active;
    const current = await dom.xml({ inactive: !live });
    const disk = findDisk(current, data.target);
    if (!disk) throw new CommandError('NOT_FOUND', `domain '${data.domain}' has no disk '${data.target}'`);
    await dom.detachDevice(disk, { live, config });
    // Live detach is asynchronous in the guest: completion is device-removed.
    const pending = live ? !!findDisk(await dom.xml(), data.target) : false;
    return { target: data.target, pending };
  },
  'domain.attachInterface': async (data, { conn }) => {
    const dom = await conn.domain(data.domain);
    const active = await dom.isActive();
    const mac = data.mac ?? randomMac();
    await dom.attachDevice(
      interfaceXml({ network: data.network, bridge: data.bridge, mac, model: data.model ?? 'virtio' }),
      { live: data.live ?? active, config: data.config ?? !active },
    );
    return { mac };
  },
  'domain.detachInterface': async (data, { conn }) => {
    const dom = await conn.domain(data.domain);
    const active = await dom.isActive();
    const live = data.live ?? active;
    const iface = findInterface(await dom.xml({ inactive: !live }), data.mac);
    if (!iface) throw new CommandError('NOT_FOUND', `domain '${data.domain}' has no interface with MAC ${data.mac}`);
    await dom.detachDevice(iface, { live, config: data.config ?? !active });
    const pending = live ? !!findInterface(await dom.xml(), data.mac) : false;
    return { mac: data.mac, pending };
  },
  'domain.setVcpus': async (data, { conn }) => {
    const dom = await conn.domain(data.domain);
    await dom.setVcpus(data.vcpus, { live: data.live, config: data.config, maximum: data.maximum });
    return { vcpus: data.vcpus };
  },
  'domain.setMemory': async (data, { conn }) => {
    const dom = await conn.domain(data.domain);
    await dom.setMemory(data.memoryKiB, { live: data.live, config: data.config, maximum: data.maximum });
    return { memoryKiB: data.memoryKiB };
  },
  'domain.stats': async (data, { conn }) => {
    const dom = await conn.domain(data.domain);
    return { uuid: dom.uuid, name: dom.name, stats: await dom.stats() };
  },
};
