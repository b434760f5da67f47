// One domain's record of virConnectGetAllDomainStats, as libvirt names it,
// split into the guest's own values and its per-device ones. libvirt numbers
// devices ("block.0.name", "block.0.rd.bytes", "net.1.tx.pkts", with
// "block.count"); a device is known here by its name ("vda", "vnet3"), the
// number is only libvirt's position in this one record.
import type { TypedParams } from '../libvirt/binding';

export interface DeviceStats {
  /** block.<n>.name (target, e.g. vda) or net.<n>.name (host-side interface, e.g. vnet0) */
  name: string;
  /** the device's numeric fields without the "<group>.<n>." prefix: "rd.bytes", "tx.pkts", … */
  values: Record<string, number>;
}

export interface GuestStats {
  name: string;
  uuid: string;
  /** numeric fields of no device: "state.state", "cpu.time", "balloon.current", "vcpu.current", … */
  values: Record<string, number>;
  block: DeviceStats[];
  net: DeviceStats[];
}

type DeviceGroup = 'block' | 'net';
const DEVICE_KEY = /^(block|net)\.(\d+)\.(.+)$/;

export function parseGuestStats(name: string, uuid: string, params: TypedParams): GuestStats {
  const values: Record<string, number> = {};
  const devices = { block: new Map<number, DeviceStats>(), net: new Map<number, DeviceStats>() };
  const device = (group: DeviceGroup, n: number) => {
    let d = devices[group].get(n);
    if (!d) devices[group].set(n, (d = { name: '', values: {} }));
    return d;
  };
  for (const [key, v] of Object.entries(params)) {
    const m = DEVICE_KEY.exec(key);
    if (m) {
      const d = device(m[1] as DeviceGroup, Number(m[2]));
      if (m[3] === 'name' && typeof v === 'string') d.name = v;
      else if (typeof v === 'number') d.values[m[3]!] = v;
    } else if (typeof v === 'number') {
      values[key] = v;
    }
  }
  const named = (group: DeviceGroup) =>
    [...devices[group].entries()]
      .sort(([a], [b]) => a - b)
      .map(([, d]) => d)
      // a record without a name cannot be told apart in a label
      .filter((d) => d.name !== '');
  return { name, uuid, values, block: named('block'), net: named('net') };
}
