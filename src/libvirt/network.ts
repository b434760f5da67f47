import { native, type NetworkHandle } from './binding';
import { enums } from './names';

/** A libvirt virtual network (virNetworkPtr). */
export class Network {
  constructor(readonly handle: NetworkHandle) {}
  get name(): string {
    return native.networkGetIdentity(this.handle).name;
  }
  get uuid(): string {
    return native.networkGetIdentity(this.handle).uuid;
  }

  async start(): Promise<void> {
    await native.networkCreate(this.handle);
  }
  async destroy(): Promise<void> {
    await native.networkDestroy(this.handle);
  }
  async undefine(): Promise<void> {
    await native.networkUndefine(this.handle);
  }
  async xml(o: { inactive?: boolean } = {}): Promise<string> {
    return native.networkGetXMLDesc(this.handle, o.inactive ? enums.virNetworkXMLFlags.VIR_NETWORK_XML_INACTIVE : 0);
  }
  async isActive(): Promise<boolean> {
    return native.networkIsActive(this.handle);
  }
  async isPersistent(): Promise<boolean> {
    return native.networkIsPersistent(this.handle);
  }
  async autostart(): Promise<boolean> {
    return native.networkGetAutostart(this.handle);
  }
  async setAutostart(on: boolean): Promise<void> {
    await native.networkSetAutostart(this.handle, on);
  }
  async bridgeName(): Promise<string> {
    return native.networkGetBridgeName(this.handle);
  }
}
