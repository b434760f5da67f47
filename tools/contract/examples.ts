// Golden example messages (contracts/examples/): every command with sample
// data, the reply the agent really gave on libvirt's test driver, and every
// kind of event, in JSON and protobuf. `npm run gen` re-records
// them; tests validate each against its schema and round-trip it through
// both codecs.
import type { CloudEvent } from '../../src/contract/envelope';
import type { CommandName } from '../../src/contract/commands';

export const EXAMPLE_TIME = '2026-11-23T08:00:00.000Z';
export const EXAMPLE_NODE = 'node1';

/** fixed UUIDs, so that `npm run gen` records the same examples every time */
const UUIDS: Record<string, string> = {
  vm1: '2aa34616-0a6c-4caf-b8de-c9c95633f954',
  vm2: '1be67df9-b7a4-460e-b845-8725f6b5a77b',
};
const vmXml = (name: string) =>
  `<domain type='test'><name>${name}</name><uuid>${UUIDS[name]}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

/** Sample data, in the order the recorder runs them (later ones use what earlier ones made). */
export const SAMPLE_COMMANDS: Array<[CommandName, Record<string, unknown>]> = [
  ['agent.ping', {}],
  ['agent.status', {}],
  ['node.info', {}],
  ['node.capabilities', {}],
  ['node.stats', {}],
  ['domain.define', { xml: vmXml('vm1') }],
  ['domain.list', { state: 'all' }],
  ['domain.get', { domain: 'vm1' }],
  ['domain.xml', { domain: 'vm1', inactive: true }],
  ['domain.start', { domain: 'vm1' }],
  ['domain.suspend', { domain: 'vm1' }],
  ['domain.resume', { domain: 'vm1' }],
  ['domain.setVcpus', { domain: 'vm1', vcpus: 1, config: true }],
  ['domain.setMemory', { domain: 'vm1', memoryKiB: 65536, config: true }],
  [
    'domain.attachDisk',
    {
      domain: 'vm1',
      source: { pool: 'default-pool', volume: 'data.img' },
      target: 'vdb',
      bus: 'virtio',
      format: 'raw',
    },
  ],
  ['domain.detachDisk', { domain: 'vm1', target: 'vdb' }],
  ['domain.attachInterface', { domain: 'vm1', network: 'default', mac: '52:54:00:12:34:56', model: 'virtio' }],
  ['domain.detachInterface', { domain: 'vm1', mac: '52:54:00:12:34:56' }],
  ['domain.stats', { domain: 'vm1' }],
  ['domain.reboot', { domain: 'vm1' }],
  ['domain.shutdown', { domain: 'vm1', mode: 'acpi' }],
  ['domain.destroy', { domain: 'vm1' }],
  ['domain.undefine', { domain: 'vm1' }],
  ['domain.create', { xml: vmXml('vm2') }],
  ['domain.save', { domain: 'vm2', path: 'vm2.sav' }],
  ['domain.restore', { path: 'vm2.sav' }],
  [
    'domain.migrate',
    { domain: 'vm2', destination: { uri: 'qemu+tcp://node2/system' }, live: true, bandwidthMiBs: 100 },
  ],
  ['domain.snapshot.create', { domain: 'vm2', snapshot: 'before-upgrade', description: 'taken before the upgrade' }],
  ['domain.snapshot.list', { domain: 'vm2' }],
  ['domain.snapshot.revert', { domain: 'vm2', snapshot: 'before-upgrade', running: true }],
  ['domain.snapshot.delete', { domain: 'vm2', snapshot: 'before-upgrade' }],
  ['pool.list', {}],
  [
    'pool.define',
    { xml: "<pool type='dir'><name>pool2</name><target><path>/var/lib/virtbus/pool2</path></target></pool>" },
  ],
  ['pool.build', { pool: 'pool2' }],
  ['pool.start', { pool: 'pool2' }],
  ['pool.refresh', { pool: 'pool2' }],
  ['pool.get', { pool: 'pool2' }],
  ['vol.create', { pool: 'pool2', name: 'disk1.qcow2', capacityBytes: 1073741824, format: 'qcow2' }],
  ['vol.list', { pool: 'pool2' }],
  ['vol.get', { pool: 'pool2', volume: 'disk1.qcow2' }],
  ['vol.resize', { pool: 'pool2', volume: 'disk1.qcow2', capacityBytes: 2147483648 }],
  ['vol.clone', { pool: 'pool2', volume: 'disk1.qcow2', name: 'disk2.qcow2' }],
  ['vol.delete', { pool: 'pool2', volume: 'disk1.qcow2' }],
  ['pool.destroy', { pool: 'pool2' }],
  ['pool.undefine', { pool: 'pool2' }],
  ['network.define', { xml: "<network><name>net2</name><bridge name='virbr9'/></network>" }],
  ['network.start', { network: 'net2' }],
  ['network.list', {}],
  ['network.get', { network: 'net2' }],
  ['network.destroy', { network: 'net2' }],
  ['network.undefine', { network: 'net2' }],
  ['job.get', { id: 'c-domain.save' }],
  ['job.list', {}],
  ['job.cancel', { id: 'c-domain.migrate' }],
];

export interface Example {
  name: string;
  kind: 'command' | 'reply' | 'event';
  envelope: CloudEvent;
}
