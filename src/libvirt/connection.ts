import { native, type ConnectionHandle, type NativeEventRecord, type TypedParams } from './binding';
import { Domain } from './domain';
import { LibvirtError } from './error';
import { toLibvirtEvent, type LibvirtEvent, type LibvirtEventOf, type LibvirtEventType } from './events';
import {
  domainListFlags,
  domainStatsFlags,
  startFlags,
  saveFlags,
  type DomainListFilter,
  type DomainStatsOptions,
  type SaveOptions,
  type StartOptions,
} from './flags';
import { closeReason, enums } from './names';
import { Network } from './network';
import { StoragePool, StorageVolume } from './storage';
import { TypedEmitter } from '../typed-emitter';

export type ConnectionEvents = { [T in LibvirtEventType]: (e: LibvirtEventOf<T>) => void } & {
  /** every libvirt event, whatever its type */
  event: (e: LibvirtEvent) => void;
  /** libvirt closed the connection (daemon gone, keepalive timeout, …) */
  close: (info: { reason: string }) => void;
};

export interface OpenOptions {
  readOnly?: boolean;
  /** keepalive for remote drivers: interval in s (0 disables) and missed count; default 5 s × 3 */
  keepaliveIntervalS?: number;
  keepaliveCount?: number;
}

export interface NodeInfo {
  model: string;
  memoryKiB: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface EventSubscription {
  /** the event kinds this driver accepted */
  registered: string[];
  /** the kinds the driver refused, with libvirt's reason */
  unsupported: Array<{ event: string; message: string; code: number }>;
}

/** domain() tries a reference that looks like a UUID as one first (then as a name). */
export function looksLikeUuid(ref: string): boolean {
  return UUID_RE.test(ref);
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** libvirt's version number (1000000*major + 1000*minor + micro) as parts. */
export function splitVersion(v: number): { major: number; minor: number; micro: number; string: string } {
  const major = Math.floor(v / 1000000),
    minor = Math.floor(v / 1000) % 1000,
    micro = v % 1000;
  return { major, minor, micro, string: `${major}.${minor}.${micro}` };
}

/**
 * A libvirt connection (virConnectPtr): any URI libvirt accepts, in-process
 * (test:///default) or through a daemon (qemu:///system, qemu+tcp://…,
 * qemu+ssh://…), read-write or read-only.
 */
export class Connection extends TypedEmitter<ConnectionEvents> {
  private closing?: Promise<void>;
  private subscribed = false;

  private constructor(
    readonly handle: ConnectionHandle,
    readonly uri: string,
    readonly readOnly: boolean,
  ) {
    super();
  }

  static async open(uri: string, o: OpenOptions = {}): Promise<Connection> {
    // the close callback is registered before the object exists
    const self: { conn?: Connection } = {};
    const onClose = (r: NativeEventRecord) => self.conn?.emit('close', { reason: closeReason(r.reason as number) });
    const handle = await native.connectOpen(
      uri,
      o.readOnly ? enums.virConnectFlags.VIR_CONNECT_RO : 0,
      onClose,
      o.keepaliveIntervalS ?? 5,
      o.keepaliveCount ?? 3,
    );
    self.conn = new Connection(handle, uri, !!o.readOnly);
    return self.conn;
  }

  static openReadOnly(uri: string, o: Omit<OpenOptions, 'readOnly'> = {}): Promise<Connection> {
    return Connection.open(uri, { ...o, readOnly: true });
  }

  /**
   * Subscribes to every event of every domain, pool and network of this
   * connection; they are emitted on this object. Ends when `signal` aborts or
   * the connection closes.
   */
  async subscribeEvents(signal?: AbortSignal): Promise<EventSubscription> {
    if (this.subscribed) throw new Error('events are already subscribed on this connection');
    this.subscribed = true;
    const r = await native.connectEventsRegister(this.handle, (rec) => this.dispatch(rec));
    signal?.addEventListener(
      'abort',
      () => {
        void this.unsubscribeEvents().catch(() => undefined);
      },
      { once: true },
    );
    return r;
  }

  async unsubscribeEvents(): Promise<void> {
    if (!this.subscribed || this.closing) return;
    this.subscribed = false;
    await native.connectEventsDeregister(this.handle);
  }

  private dispatch(rec: NativeEventRecord): void {
    const e = toLibvirtEvent(rec);
    // A throwing listener must not reach the native callback.
    try {
      this.emit(e.type, e as never);
      this.emit('event', e);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  /** Deregisters events and the close callback, then closes. Idempotent. */
  async close(): Promise<void> {
    this.closing ??= native.connectClose(this.handle).then(() => undefined);
    return this.closing;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  async isAlive(): Promise<boolean> {
    return native.connectIsAlive(this.handle);
  }
  async hostname(): Promise<string> {
    return native.connectGetHostname(this.handle);
  }
  /** the canonical URI libvirt reports for this connection */
  async canonicalUri(): Promise<string> {
    return native.connectGetURI(this.handle);
  }
  async capabilities(): Promise<string> {
    return native.connectGetCapabilities(this.handle);
  }
  /** hypervisor driver name, e.g. QEMU or TEST */
  async hypervisorType(): Promise<string> {
    return native.connectGetType(this.handle);
  }
  async libVersion(): Promise<ReturnType<typeof splitVersion>> {
    return splitVersion(await native.connectGetLibVersion(this.handle));
  }
  async hypervisorVersion(): Promise<ReturnType<typeof splitVersion>> {
    return splitVersion(await native.connectGetVersion(this.handle));
  }
  async nodeInfo(): Promise<NodeInfo> {
    return native.nodeGetInfo(this.handle);
  }
  /** free memory of the host, bytes */
  async freeMemory(): Promise<number> {
    return native.nodeGetFreeMemory(this.handle);
  }
  async nodeCpuStats(): Promise<Record<string, number>> {
    return native.nodeGetCPUStats(this.handle);
  }
  async nodeMemoryStats(): Promise<Record<string, number>> {
    return native.nodeGetMemoryStats(this.handle);
  }

  async listDomains(filter: DomainListFilter = 'all'): Promise<Domain[]> {
    return (await native.connectListAllDomains(this.handle, domainListFlags(filter))).map((h) => new Domain(h));
  }
  async listStoragePools(): Promise<StoragePool[]> {
    return (await native.connectListAllStoragePools(this.handle, 0)).map((h) => new StoragePool(h));
  }
  async listNetworks(): Promise<Network[]> {
    return (await native.connectListAllNetworks(this.handle, 0)).map((h) => new Network(h));
  }
  /** virConnectGetAllDomainStats; `stats` is a VIR_DOMAIN_STATS_* mask (0 = all the driver has). */
  async allDomainStats(stats = 0, o: DomainStatsOptions = {}): Promise<Array<{ domain: Domain; params: TypedParams }>> {
    return (await native.connectGetAllDomainStats(this.handle, stats, domainStatsFlags(o))).map((r) => ({
      domain: new Domain(r.domain),
      params: r.params,
    }));
  }

  /** By UUID if it looks like one, else by name. */
  async domain(ref: string): Promise<Domain> {
    if (UUID_RE.test(ref)) {
      try {
        return new Domain(await native.domainLookupByUUIDString(this.handle, ref));
      } catch (e) {
        if (!(e instanceof LibvirtError && e.codeName === 'VIR_ERR_NO_DOMAIN')) throw e;
      }
    }
    return new Domain(await native.domainLookupByName(this.handle, ref));
  }
  async domainById(id: number): Promise<Domain> {
    return new Domain(await native.domainLookupByID(this.handle, id));
  }
  /** Defines a persistent domain (shut off). */
  async defineDomain(xml: string, o: { validate?: boolean } = {}): Promise<Domain> {
    const f = o.validate ? enums.virDomainDefineFlags.VIR_DOMAIN_DEFINE_VALIDATE : 0;
    return new Domain(await native.domainDefineXML(this.handle, xml, f));
  }
  /** Creates and starts a transient domain: it vanishes when it stops. */
  async createDomain(xml: string, o: StartOptions = {}): Promise<Domain> {
    return new Domain(await native.domainCreateXML(this.handle, xml, startFlags(o)));
  }
  async restoreDomain(path: string, o: SaveOptions & { xml?: string } = {}): Promise<void> {
    await native.domainRestore(this.handle, path, o.xml ?? null, saveFlags(o));
  }

  async storagePool(ref: string): Promise<StoragePool> {
    if (UUID_RE.test(ref)) {
      try {
        return new StoragePool(await native.storagePoolLookupByUUIDString(this.handle, ref));
      } catch (e) {
        if (!(e instanceof LibvirtError && e.codeName === 'VIR_ERR_NO_STORAGE_POOL')) throw e;
      }
    }
    return new StoragePool(await native.storagePoolLookupByName(this.handle, ref));
  }
  async defineStoragePool(xml: string): Promise<StoragePool> {
    return new StoragePool(await native.storagePoolDefineXML(this.handle, xml, 0));
  }
  /** A transient pool, started at once; `build` creates its directory/storage first. */
  async createStoragePool(xml: string, o: { build?: boolean } = {}): Promise<StoragePool> {
    const f = o.build ? enums.virStoragePoolCreateFlags.VIR_STORAGE_POOL_CREATE_WITH_BUILD : 0;
    return new StoragePool(await native.storagePoolCreateXML(this.handle, xml, f));
  }
  async volumeByPath(path: string): Promise<StorageVolume> {
    return new StorageVolume(await native.storageVolLookupByPath(this.handle, path));
  }
  async volumeByKey(key: string): Promise<StorageVolume> {
    return new StorageVolume(await native.storageVolLookupByKey(this.handle, key));
  }

  async network(ref: string): Promise<Network> {
    if (UUID_RE.test(ref)) {
      try {
        return new Network(await native.networkLookupByUUIDString(this.handle, ref));
      } catch (e) {
        if (!(e instanceof LibvirtError && e.codeName === 'VIR_ERR_NO_NETWORK')) throw e;
      }
    }
    return new Network(await native.networkLookupByName(this.handle, ref));
  }
  async defineNetwork(xml: string): Promise<Network> {
    return new Network(await native.networkDefineXML(this.handle, xml, 0));
  }
  async createNetwork(xml: string): Promise<Network> {
    return new Network(await native.networkCreateXML(this.handle, xml, 0));
  }
}

/** Size of the addon's own thread pool for libvirt calls (default 16). */
export function setLibvirtThreadPoolSize(n: number): void {
  native.setThreadPoolSize(n);
}
export function libvirtThreadPoolSize(): number {
  return native.getThreadPoolSize();
}
