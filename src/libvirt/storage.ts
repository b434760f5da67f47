import { native, type StoragePoolHandle, type StorageVolumeHandle } from './binding';
import { enums, poolState, volumeType, type PoolStateName } from './names';

export interface StoragePoolInfo {
  state: PoolStateName;
  capacity: number;
  allocation: number;
  available: number;
}
export interface StorageVolumeInfo {
  type: string;
  capacity: number;
  allocation: number;
}

/** A libvirt storage pool (virStoragePoolPtr). Sizes are bytes. */
export class StoragePool {
  constructor(readonly handle: StoragePoolHandle) {}
  get name(): string {
    return native.storagePoolGetIdentity(this.handle).name;
  }
  get uuid(): string {
    return native.storagePoolGetIdentity(this.handle).uuid;
  }

  async start(): Promise<void> {
    await native.storagePoolCreate(this.handle, 0);
  }
  async build(o: { overwrite?: boolean; noOverwrite?: boolean } = {}): Promise<void> {
    const f = enums.virStoragePoolBuildFlags;
    await native.storagePoolBuild(
      this.handle,
      (o.overwrite ? f.VIR_STORAGE_POOL_BUILD_OVERWRITE : 0) |
        (o.noOverwrite ? f.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE : 0),
    );
  }
  async refresh(): Promise<void> {
    await native.storagePoolRefresh(this.handle, 0);
  }
  async destroy(): Promise<void> {
    await native.storagePoolDestroy(this.handle);
  }
  /** Deletes the underlying storage (directory, …); the pool must be inactive. */
  async delete(): Promise<void> {
    await native.storagePoolDelete(this.handle, 0);
  }
  async undefine(): Promise<void> {
    await native.storagePoolUndefine(this.handle);
  }
  async info(): Promise<StoragePoolInfo> {
    const i = await native.storagePoolGetInfo(this.handle);
    return { ...i, state: poolState(i.state) };
  }
  async xml(o: { inactive?: boolean } = {}): Promise<string> {
    return native.storagePoolGetXMLDesc(
      this.handle,
      o.inactive ? enums.virStorageXMLFlags.VIR_STORAGE_XML_INACTIVE : 0,
    );
  }
  async isActive(): Promise<boolean> {
    return native.storagePoolIsActive(this.handle);
  }
  async isPersistent(): Promise<boolean> {
    return native.storagePoolIsPersistent(this.handle);
  }
  async autostart(): Promise<boolean> {
    return native.storagePoolGetAutostart(this.handle);
  }
  async setAutostart(on: boolean): Promise<void> {
    await native.storagePoolSetAutostart(this.handle, on);
  }

  async volumes(): Promise<StorageVolume[]> {
    return (await native.storagePoolListAllVolumes(this.handle, 0)).map((h) => new StorageVolume(h));
  }
  async volume(name: string): Promise<StorageVolume> {
    return new StorageVolume(await native.storageVolLookupByName(this.handle, name));
  }
  async createVolume(xml: string, o: { preallocateMetadata?: boolean } = {}): Promise<StorageVolume> {
    const f = o.preallocateMetadata ? enums.virStorageVolCreateFlags.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0;
    return new StorageVolume(await native.storageVolCreateXML(this.handle, xml, f));
  }
  /** virStorageVolCreateXMLFrom: a new volume in this pool from `source`'s contents. */
  async cloneVolume(xml: string, source: StorageVolume): Promise<StorageVolume> {
    return new StorageVolume(await native.storageVolCreateXMLFrom(this.handle, xml, source.handle, 0));
  }
}

/** A libvirt storage volume (virStorageVolPtr). */
export class StorageVolume {
  constructor(readonly handle: StorageVolumeHandle) {}
  get name(): string {
    return native.storageVolGetIdentity(this.handle).name;
  }
  get key(): string {
    return native.storageVolGetIdentity(this.handle).key;
  }

  async delete(): Promise<void> {
    await native.storageVolDelete(this.handle, 0);
  }
  async wipe(): Promise<void> {
    await native.storageVolWipe(this.handle, 0);
  }
  async resize(bytes: number, o: { allocate?: boolean; delta?: boolean; shrink?: boolean } = {}): Promise<void> {
    const f = enums.virStorageVolResizeFlags;
    await native.storageVolResize(
      this.handle,
      bytes,
      (o.allocate ? f.VIR_STORAGE_VOL_RESIZE_ALLOCATE : 0) |
        (o.delta ? f.VIR_STORAGE_VOL_RESIZE_DELTA : 0) |
        (o.shrink ? f.VIR_STORAGE_VOL_RESIZE_SHRINK : 0),
    );
  }
  async info(): Promise<StorageVolumeInfo> {
    const i = await native.storageVolGetInfo(this.handle);
    return { ...i, type: volumeType(i.type) };
  }
  async path(): Promise<string> {
    return native.storageVolGetPath(this.handle);
  }
  async xml(): Promise<string> {
    return native.storageVolGetXMLDesc(this.handle, 0);
  }
  async pool(): Promise<StoragePool> {
    return new StoragePool(await native.storagePoolLookupByVolume(this.handle));
  }
}
