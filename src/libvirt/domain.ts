import { native, type DomainHandle, type SnapshotHandle, type TypedParams } from './binding';
import {
  affectFlags,
  destroyFlags,
  domainXmlFlags,
  memoryFlags,
  rebootFlags,
  saveFlags,
  shutdownFlags,
  startFlags,
  undefineFlags,
  vcpuFlags,
  type AffectOptions,
  type DomainXmlOptions,
  type SaveOptions,
  type ShutdownMode,
  type StartOptions,
  type UndefineOptions,
} from './flags';
import { migrateFlags, migrateParams, type MigrateOptions } from './migration';
import { domainState, domainStateReason, enums, jobType, type DomainStateName } from './names';

export interface DomainInfo {
  state: DomainStateName;
  maxMemoryKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
}

export interface JobStats {
  /** none | bounded | unbounded | completed | failed | cancelled */
  type: string;
  params: TypedParams;
}

/** A libvirt domain (virDomainPtr). Methods map 1:1 to libvirt calls. */
export class Domain {
  constructor(readonly handle: DomainHandle) {}

  get name(): string {
    return native.domainGetIdentity(this.handle).name;
  }
  get uuid(): string {
    return native.domainGetIdentity(this.handle).uuid;
  }
  /** id at lookup time; -1 when inactive */
  get id(): number {
    return native.domainGetIdentity(this.handle).id;
  }

  async start(o: StartOptions = {}): Promise<void> {
    await native.domainCreate(this.handle, startFlags(o));
  }
  async shutdown(mode: ShutdownMode = 'default'): Promise<void> {
    await native.domainShutdown(this.handle, shutdownFlags(mode));
  }
  async reboot(mode: ShutdownMode = 'default'): Promise<void> {
    await native.domainReboot(this.handle, rebootFlags(mode));
  }
  async reset(): Promise<void> {
    await native.domainReset(this.handle, 0);
  }
  async destroy(o: { graceful?: boolean } = {}): Promise<void> {
    await native.domainDestroy(this.handle, destroyFlags(o));
  }
  async suspend(): Promise<void> {
    await native.domainSuspend(this.handle);
  }
  async resume(): Promise<void> {
    await native.domainResume(this.handle);
  }
  async undefine(o: UndefineOptions = {}): Promise<void> {
    await native.domainUndefine(this.handle, undefineFlags(o));
  }

  async save(path: string, o: SaveOptions & { xml?: string } = {}): Promise<void> {
    await native.domainSave(this.handle, path, o.xml ?? null, saveFlags(o));
  }
  async managedSave(o: SaveOptions = {}): Promise<void> {
    await native.domainManagedSave(this.handle, saveFlags(o));
  }
  async managedSaveRemove(): Promise<void> {
    await native.domainManagedSaveRemove(this.handle, 0);
  }
  async hasManagedSaveImage(): Promise<boolean> {
    return native.domainHasManagedSaveImage(this.handle, 0);
  }

  /** The domain XML; secure (passwords) is off unless asked for. */
  async xml(o: DomainXmlOptions = {}): Promise<string> {
    return native.domainGetXMLDesc(this.handle, domainXmlFlags(o));
  }

  async info(): Promise<DomainInfo> {
    const i = await native.domainGetInfo(this.handle);
    return { ...i, state: domainState(i.state) };
  }
  async state(): Promise<{ state: DomainStateName; reason: string }> {
    const s = await native.domainGetState(this.handle);
    return { state: domainState(s.state), reason: domainStateReason(s.state, s.reason) };
  }
  async isActive(): Promise<boolean> {
    return native.domainIsActive(this.handle);
  }
  async isPersistent(): Promise<boolean> {
    return native.domainIsPersistent(this.handle);
  }
  async autostart(): Promise<boolean> {
    return native.domainGetAutostart(this.handle);
  }
  async setAutostart(on: boolean): Promise<void> {
    await native.domainSetAutostart(this.handle, on);
  }

  async attachDevice(xml: string, o: AffectOptions = {}): Promise<void> {
    await native.domainAttachDevice(this.handle, xml, affectFlags(o));
  }
  /** Returns once libvirt accepted the request; completion is the device-removed event. */
  async detachDevice(xml: string, o: AffectOptions = {}): Promise<void> {
    await native.domainDetachDevice(this.handle, xml, affectFlags(o));
  }
  async detachDeviceAlias(alias: string, o: AffectOptions = {}): Promise<void> {
    await native.domainDetachDeviceAlias(this.handle, alias, affectFlags(o));
  }
  async updateDevice(xml: string, o: AffectOptions = {}): Promise<void> {
    await native.domainUpdateDevice(this.handle, xml, affectFlags(o));
  }

  async setVcpus(n: number, o: AffectOptions & { maximum?: boolean } = {}): Promise<void> {
    await native.domainSetVcpus(this.handle, n, vcpuFlags(o));
  }
  async setMemory(kib: number, o: AffectOptions & { maximum?: boolean } = {}): Promise<void> {
    await native.domainSetMemory(this.handle, kib, memoryFlags(o));
  }

  /** Peer-to-peer live migration by default; resolves when libvirt's job ends. */
  async migrate(o: MigrateOptions): Promise<void> {
    const flags = migrateFlags(o);
    // dconnuri names the destination daemon only for peer-to-peer; the direct
    // (non-p2p) mode takes just the data URI and works with few drivers.
    const dconnuri = flags & enums.virDomainMigrateFlags.VIR_MIGRATE_PEER2PEER ? o.destinationUri : null;
    await native.domainMigrateToURI3(this.handle, dconnuri, migrateParams(o), flags);
  }
  async setMigrationMaxDowntime(ms: number): Promise<void> {
    await native.domainMigrateSetMaxDowntime(this.handle, ms);
  }
  /** The largest pause (ms) a live migration of this guest may take at switch-over: virDomainMigrateGetMaxDowntime. */
  async migrationMaxDowntimeMs(): Promise<number> {
    return native.domainMigrateGetMaxDowntime(this.handle, 0);
  }
  async setMigrationMaxSpeed(mibs: number): Promise<void> {
    await native.domainMigrateSetMaxSpeed(this.handle, mibs, 0);
  }
  async startPostCopy(): Promise<void> {
    await native.domainMigrateStartPostCopy(this.handle, 0);
  }

  /** Statistics of the running job, or of the last completed one with `completed`. */
  async jobStats(o: { completed?: boolean } = {}): Promise<JobStats> {
    const flags = o.completed ? enums.virDomainGetJobStatsFlags.VIR_DOMAIN_JOB_STATS_COMPLETED : 0;
    const s = await native.domainGetJobStats(this.handle, flags);
    return { type: jobType(s.type), params: s.params };
  }
  async abortJob(): Promise<void> {
    await native.domainAbortJob(this.handle, 0);
  }

  /** virDomainListGetStats for this domain; `stats` is a VIR_DOMAIN_STATS_* mask (0 = all). */
  async stats(stats = 0): Promise<TypedParams> {
    const [r] = await native.domainListGetStats([this.handle], stats, 0);
    return r?.params ?? {};
  }

  async createSnapshot(xml: string, flags = 0): Promise<DomainSnapshot> {
    return new DomainSnapshot(await native.domainSnapshotCreateXML(this.handle, xml, flags));
  }
  async snapshot(name: string): Promise<DomainSnapshot> {
    return new DomainSnapshot(await native.domainSnapshotLookupByName(this.handle, name, 0));
  }
  async snapshots(): Promise<DomainSnapshot[]> {
    return (await native.domainListAllSnapshots(this.handle, 0)).map((h) => new DomainSnapshot(h));
  }
}

export class DomainSnapshot {
  constructor(readonly handle: SnapshotHandle) {}
  get name(): string {
    return native.snapshotGetName(this.handle);
  }
  async xml(): Promise<string> {
    return native.snapshotGetXMLDesc(this.handle, 0);
  }
  async revert(o: { running?: boolean; paused?: boolean; force?: boolean } = {}): Promise<void> {
    const f = enums.virDomainSnapshotRevertFlags;
    await native.snapshotRevert(
      this.handle,
      (o.running ? f.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING : 0) |
        (o.paused ? f.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED : 0) |
        (o.force ? f.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE : 0),
    );
  }
  async delete(o: { children?: boolean; metadataOnly?: boolean } = {}): Promise<void> {
    const f = enums.virDomainSnapshotDeleteFlags;
    await native.snapshotDelete(
      this.handle,
      (o.children ? f.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN : 0) |
        (o.metadataOnly ? f.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY : 0),
    );
  }
}
