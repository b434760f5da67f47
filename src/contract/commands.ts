// The v1 command set: for each command, the schema of its `data` and of its
// reply's `result`. These TypeBox definitions are the single source: the TS
// types come from Static<>, and contracts/schemas/*.json are generated from
// them (`npm run gen`, tools/contract/).
import { Type as T, type Static, type TSchema } from '@sinclair/typebox';
import { NODE_ID_PATTERN } from './addresses';

const Name = T.String({ minLength: 1, maxLength: 255 });
const DomainRef = T.String({ minLength: 1, maxLength: 255, description: 'domain name or UUID' });
const Empty = T.Object({}, { additionalProperties: false });
export const DomainStateWord = T.Union(
  ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'].map((s) => T.Literal(s)),
);
/**
 * Integers in commands stay exact in every JSON implementation (and in signed
 * data, contract "Command authenticity"): a larger number would lose digits
 * on its way to libvirt (2^64 KiB arrived as 0).
 */
const MAX_INT = Number.MAX_SAFE_INTEGER;
const Bytes = T.Integer({ minimum: 0, maximum: MAX_INT });
const Xml = T.String({ minLength: 1, maxLength: 1024 * 1024 });
const Affect = { live: T.Optional(T.Boolean()), config: T.Optional(T.Boolean()) };

const DomainSummary = T.Object({
  uuid: T.String(),
  name: T.String(),
  id: T.Integer(),
  state: DomainStateWord,
  persistent: T.Boolean(),
});
const DomainStateResult = T.Object({ uuid: T.String(), name: T.String(), state: DomainStateWord });
const PoolSummary = T.Object({
  uuid: T.String(),
  name: T.String(),
  state: T.String(),
  capacity: Bytes,
  allocation: Bytes,
  available: Bytes,
  persistent: T.Optional(T.Boolean()),
  autostart: T.Optional(T.Boolean()),
});
const VolumeSummary = T.Object({
  name: T.String(),
  key: T.String(),
  path: T.String(),
  capacity: Bytes,
  allocation: Bytes,
  format: T.Optional(T.String()),
  type: T.Optional(T.String()),
});
const NetworkSummary = T.Object({
  uuid: T.String(),
  name: T.String(),
  active: T.Boolean(),
  persistent: T.Boolean(),
  autostart: T.Boolean(),
  bridge: T.Optional(T.String()),
});
const NameUuid = T.Object({ uuid: T.String(), name: T.String() });
export const JobState = T.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => T.Literal(s)));
export const JobInfo = T.Object({
  id: T.String(),
  command: T.String(),
  state: JobState,
  /** the runner's last progress report (migration: phase, data total/processed/remaining, dirty rate, iteration, …) */
  progress: T.Optional(T.Unknown()),
  /** the command's result once it succeeded */
  result: T.Optional(T.Unknown()),
  /** the wire error once it failed or was cancelled */
  error: T.Optional(T.Unknown()),
  createdAt: T.Optional(T.String()),
  finishedAt: T.Optional(T.String()),
  /** the job kind (concurrency class), e.g. migrate */
  kind: T.Optional(T.String()),
  startedAt: T.Optional(T.String()),
  /** the outcome was decided by reconciliation after an agent restart */
  recovered: T.Optional(T.Boolean()),
});

export interface CommandSpec {
  data: TSchema;
  result: TSchema;
  /** changes libvirt state: refused with FORBIDDEN in read-only mode */
  mutating: boolean;
  /** the contract lists it but this agent does not implement it yet (UNSUPPORTED) */
  planned: boolean;
  /** the object the command is about, for per-object ordering */
  summary: string;
}

const cmd = <D extends TSchema, R extends TSchema>(
  summary: string,
  data: D,
  result: R,
  mutating: boolean,
  planned = false,
) => ({ summary, data, result, mutating, planned });
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no extra fields by default
const Lifecycle = <E extends Record<string, TSchema> = {}>(extra: E = {} as E) =>
  T.Object({ domain: DomainRef, ...extra }, { additionalProperties: false });

export const COMMANDS = {
  'agent.ping': cmd(
    'liveness and identity of the agent',
    Empty,
    T.Object({
      node: T.String(),
      bootId: T.String(),
      version: T.String(),
      /** libvirt URI peers use to reach this node (migration); a broadcast ping finds every node's */
      libvirtUri: T.Optional(T.String()),
      migrateUri: T.Optional(T.String()),
    }),
    false,
  ),
  'agent.status': cmd(
    "the agent's connections, counters and configuration summary",
    Empty,
    T.Object({
      node: T.String(),
      bootId: T.String(),
      version: T.String(),
      uptimeS: T.Number(),
      readOnly: T.Boolean(),
      libvirt: T.Object({ uri: T.String(), connected: T.Boolean() }),
      bus: T.Object({
        kind: T.String(),
        connected: T.Boolean(),
        /** messages the broker refused for good and that were dropped after bounded tries */
        publishDropped: T.Optional(T.Integer()),
      }),
      commands: T.Object({ inFlight: T.Integer(), completed: T.Integer(), failed: T.Integer() }),
      events: T.Object({ published: T.Integer() }),
      // appended: protobuf field numbers follow declaration order
      /** deliveries settled without their reply or completion event (it could not be published) */
      intake: T.Optional(T.Object({ unanswered: T.Integer(), deadLettered: T.Integer(), dropped: T.Integer() })),
    }),
    false,
  ),

  'node.info': cmd(
    'host facts',
    Empty,
    T.Object({
      hostname: T.String(),
      uri: T.String(),
      libvirtVersion: T.String(),
      hypervisor: T.Object({ type: T.String(), version: T.String() }),
      cpu: T.Object({
        model: T.String(),
        count: T.Integer(),
        mhz: T.Integer(),
        sockets: T.Integer(),
        cores: T.Integer(),
        threads: T.Integer(),
        numaNodes: T.Integer(),
      }),
      memoryKiB: T.Integer(),
      freeMemoryKiB: T.Integer(),
    }),
    false,
  ),
  'node.capabilities': cmd('libvirt capabilities XML', Empty, T.Object({ xml: T.String() }), false),
  'node.stats': cmd(
    'host CPU (ns) and memory (KiB) counters',
    Empty,
    T.Object({ cpu: T.Record(T.String(), T.Number()), memory: T.Record(T.String(), T.Number()) }),
    false,
  ),

  'domain.list': cmd(
    'domains of the node',
    T.Object(
      { state: T.Optional(T.Union([T.Literal('active'), T.Literal('inactive'), T.Literal('all')])) },
      { additionalProperties: false },
    ),
    T.Object({ domains: T.Array(DomainSummary) }),
    false,
  ),
  'domain.get': cmd(
    'one domain',
    Lifecycle(),
    T.Object({
      uuid: T.String(),
      name: T.String(),
      id: T.Integer(),
      state: DomainStateWord,
      reason: T.String(),
      memoryKiB: T.Integer(),
      maxMemoryKiB: T.Integer(),
      vcpus: T.Integer(),
      cpuTimeNs: T.Number(),
      persistent: T.Boolean(),
      autostart: T.Boolean(),
    }),
    false,
  ),
  'domain.xml': cmd(
    'domain XML (never with secrets)',
    Lifecycle({ inactive: T.Optional(T.Boolean()) }),
    T.Object({ xml: T.String() }),
    false,
  ),
  'domain.define': cmd(
    'define a persistent domain',
    T.Object({ xml: Xml, paused: T.Optional(T.Boolean()) }, { additionalProperties: false }),
    NameUuid,
    true,
  ),
  'domain.create': cmd(
    'create and start a transient domain',
    T.Object({ xml: Xml, paused: T.Optional(T.Boolean()) }, { additionalProperties: false }),
    NameUuid,
    true,
  ),
  'domain.undefine': cmd(
    'remove a domain definition',
    Lifecycle({
      managedSave: T.Optional(T.Boolean()),
      snapshotsMetadata: T.Optional(T.Boolean()),
      nvram: T.Optional(T.Boolean()),
    }),
    DomainStateResult,
    true,
  ),
  'domain.start': cmd(
    'start a defined domain',
    Lifecycle({ paused: T.Optional(T.Boolean()) }),
    DomainStateResult,
    true,
  ),
  'domain.shutdown': cmd(
    'ask the guest to shut down (ACPI or agent); completion is a stopped/shutdown event',
    Lifecycle({ mode: T.Optional(T.Union(['default', 'acpi', 'agent'].map((m) => T.Literal(m)))) }),
    DomainStateResult,
    true,
  ),
  'domain.reboot': cmd(
    'ask the guest to reboot',
    Lifecycle({ mode: T.Optional(T.Union(['default', 'acpi', 'agent'].map((m) => T.Literal(m)))) }),
    DomainStateResult,
    true,
  ),
  'domain.destroy': cmd('power off at once', Lifecycle({ graceful: T.Optional(T.Boolean()) }), DomainStateResult, true),
  'domain.suspend': cmd('pause the vCPUs', Lifecycle(), DomainStateResult, true),
  'domain.resume': cmd('resume the vCPUs', Lifecycle(), DomainStateResult, true),
  'domain.attachDisk': cmd(
    'attach a file or volume as a disk',
    T.Object(
      {
        domain: DomainRef,
        source: T.Union([
          T.Object({ path: T.String({ minLength: 1, pattern: '^/' }) }, { additionalProperties: false }),
          T.Object({ pool: Name, volume: Name }, { additionalProperties: false }),
        ]),
        target: T.String({ pattern: '^[a-z]{2,3}[a-z]{1,2}$', description: 'guest device name, e.g. vdb' }),
        bus: T.Optional(T.Union(['virtio', 'scsi', 'sata', 'ide', 'usb'].map((b) => T.Literal(b)))),
        format: T.Optional(T.Union(['raw', 'qcow2'].map((f) => T.Literal(f)))),
        readonly: T.Optional(T.Boolean()),
        ...Affect,
      },
      { additionalProperties: false },
    ),
    T.Object({ target: T.String() }),
    true,
  ),
  'domain.detachDisk': cmd(
    'detach a disk; completion is the device-removed event',
    T.Object({ domain: DomainRef, target: T.String({ minLength: 2 }), ...Affect }, { additionalProperties: false }),
    T.Object({ target: T.String(), pending: T.Boolean() }),
    true,
  ),
  'domain.attachInterface': cmd(
    'attach a network interface',
    T.Object(
      {
        domain: DomainRef,
        network: T.Optional(Name),
        bridge: T.Optional(Name),
        mac: T.Optional(T.String({ pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' })),
        model: T.Optional(T.String({ pattern: '^[a-z0-9_-]+$' })),
        ...Affect,
      },
      { additionalProperties: false },
    ),
    T.Object({ mac: T.String() }),
    true,
  ),
  'domain.detachInterface': cmd(
    'detach a network interface by MAC',
    T.Object(
      { domain: DomainRef, mac: T.String({ pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' }), ...Affect },
      { additionalProperties: false },
    ),
    T.Object({ mac: T.String(), pending: T.Boolean() }),
    true,
  ),
  'domain.setVcpus': cmd(
    'change the vCPU count',
    T.Object(
      {
        domain: DomainRef,
        vcpus: T.Integer({ minimum: 1, maximum: 4096 }),
        maximum: T.Optional(T.Boolean()),
        ...Affect,
      },
      { additionalProperties: false },
    ),
    T.Object({ vcpus: T.Integer() }),
    true,
  ),
  'domain.setMemory': cmd(
    'change the memory (KiB)',
    T.Object(
      {
        domain: DomainRef,
        memoryKiB: T.Integer({ minimum: 1024, maximum: MAX_INT }),
        maximum: T.Optional(T.Boolean()),
        ...Affect,
      },
      { additionalProperties: false },
    ),
    T.Object({ memoryKiB: T.Integer() }),
    true,
  ),
  'domain.stats': cmd(
    'bulk statistics of a domain (virDomainListGetStats)',
    Lifecycle(),
    T.Object({
      uuid: T.String(),
      name: T.String(),
      stats: T.Record(T.String(), T.Union([T.Number(), T.String(), T.Boolean()])),
    }),
    false,
  ),
  'domain.save': cmd(
    "save the memory state to a file in the agent's save directory (job)",
    Lifecycle({ path: T.String({ minLength: 1, maxLength: 4096 }), bypassCache: T.Optional(T.Boolean()) }),
    T.Object({ uuid: T.String(), name: T.String(), path: T.String() }),
    true,
  ),
  'domain.restore': cmd(
    'restore a saved domain (job)',
    T.Object(
      { path: T.String({ minLength: 1, maxLength: 4096 }), paused: T.Optional(T.Boolean()) },
      { additionalProperties: false },
    ),
    DomainStateResult,
    true,
  ),
  'domain.migrate': cmd(
    'live-migrate to another node, peer to peer (job)',
    Lifecycle({
      to: T.Optional(
        T.String({ pattern: NODE_ID_PATTERN, description: 'destination node id (resolved from presence)' }),
      ),
      destination: T.Optional(
        T.Object(
          { uri: T.String({ minLength: 1 }), migrateUri: T.Optional(T.String()) },
          { additionalProperties: false },
        ),
      ),
      live: T.Optional(T.Boolean()),
      persistent: T.Optional(T.Boolean()),
      undefineSource: T.Optional(T.Boolean()),
      bandwidthMiBs: T.Optional(T.Integer({ minimum: 1, maximum: MAX_INT })),
      maxDowntimeMs: T.Optional(T.Integer({ minimum: 1, maximum: MAX_INT })),
      autoConverge: T.Optional(T.Boolean()),
      postCopy: T.Optional(T.Boolean()),
      compressed: T.Optional(T.Boolean()),
      timeoutS: T.Optional(T.Integer({ minimum: 1, maximum: MAX_INT })),
      /** what the time limit does: abort (default) or switch to post-copy */
      onTimeout: T.Optional(T.Union([T.Literal('abort'), T.Literal('postcopy')])),
    }),
    T.Object({
      uuid: T.String(),
      name: T.String(),
      /** destination node id, when the command named one */
      node: T.Optional(T.String()),
      /** null when libvirt kept no statistics of the finished job */
      downtimeMs: T.Union([T.Number(), T.Null()]),
      totalMs: T.Number(),
      bytes: T.Union([T.Number(), T.Null()]),
      /** the guest's state on the destination */
      state: T.Optional(T.String()),
      /** decided by reconciliation after an agent restart */
      recovered: T.Optional(T.Boolean()),
    }),
    true,
  ),
  'domain.snapshot.create': cmd(
    'create a snapshot (job)',
    Lifecycle({ snapshot: T.Optional(Name), description: T.Optional(T.String({ maxLength: 4096 })) }),
    T.Object({ uuid: T.String(), name: T.String(), snapshot: T.String() }),
    true,
  ),
  'domain.snapshot.list': cmd(
    'snapshots of a domain',
    Lifecycle(),
    T.Object({
      snapshots: T.Array(
        T.Object({
          name: T.String(),
          state: T.Optional(T.String()),
          creationTime: T.Optional(T.String()),
          current: T.Optional(T.Boolean()),
        }),
      ),
    }),
    false,
  ),
  'domain.snapshot.revert': cmd(
    'revert to a snapshot (job)',
    Lifecycle({ snapshot: Name, running: T.Optional(T.Boolean()), paused: T.Optional(T.Boolean()) }),
    T.Object({ uuid: T.String(), name: T.String(), snapshot: T.String(), state: DomainStateWord }),
    true,
  ),
  'domain.snapshot.delete': cmd(
    'delete a snapshot (job)',
    Lifecycle({ snapshot: Name, children: T.Optional(T.Boolean()) }),
    T.Object({ snapshot: T.String() }),
    true,
  ),

  'pool.list': cmd('storage pools', Empty, T.Object({ pools: T.Array(PoolSummary) }), false),
  'pool.get': cmd('one storage pool', T.Object({ pool: Name }, { additionalProperties: false }), PoolSummary, false),
  'pool.define': cmd(
    'define a persistent pool',
    T.Object({ xml: Xml }, { additionalProperties: false }),
    NameUuid,
    true,
  ),
  'pool.start': cmd('start a pool', T.Object({ pool: Name }, { additionalProperties: false }), PoolSummary, true),
  'pool.build': cmd(
    "build the pool's storage (e.g. create its directory)",
    T.Object({ pool: Name }, { additionalProperties: false }),
    PoolSummary,
    true,
  ),
  'pool.refresh': cmd(
    "rescan the pool's volumes",
    T.Object({ pool: Name }, { additionalProperties: false }),
    PoolSummary,
    true,
  ),
  'pool.destroy': cmd(
    'stop a pool (data stays)',
    T.Object({ pool: Name }, { additionalProperties: false }),
    PoolSummary,
    true,
  ),
  'pool.undefine': cmd(
    'remove a pool definition',
    T.Object({ pool: Name }, { additionalProperties: false }),
    NameUuid,
    true,
  ),
  'vol.list': cmd(
    'volumes of a pool',
    T.Object({ pool: Name }, { additionalProperties: false }),
    T.Object({ volumes: T.Array(VolumeSummary) }),
    false,
  ),
  'vol.get': cmd(
    'one volume',
    T.Object({ pool: Name, volume: Name }, { additionalProperties: false }),
    VolumeSummary,
    false,
  ),
  'vol.create': cmd(
    'create a volume',
    T.Union([
      T.Object(
        {
          pool: Name,
          name: Name,
          capacityBytes: T.Integer({ minimum: 1, maximum: MAX_INT }),
          format: T.Optional(T.Union([T.Literal('raw'), T.Literal('qcow2')])),
          allocationBytes: T.Optional(Bytes),
        },
        { additionalProperties: false },
      ),
      T.Object({ pool: Name, xml: Xml }, { additionalProperties: false }),
    ]),
    T.Object({ name: T.String(), key: T.String(), path: T.String() }),
    true,
  ),
  'vol.delete': cmd(
    'delete a volume',
    T.Object({ pool: Name, volume: Name }, { additionalProperties: false }),
    T.Object({ name: T.String() }),
    true,
  ),
  'vol.resize': cmd(
    'grow (or with shrink, shrink) a volume',
    T.Object(
      {
        pool: Name,
        volume: Name,
        capacityBytes: T.Integer({ minimum: 1, maximum: MAX_INT }),
        shrink: T.Optional(T.Boolean()),
      },
      { additionalProperties: false },
    ),
    VolumeSummary,
    true,
  ),
  'vol.clone': cmd(
    'clone a volume within its pool (job)',
    T.Object({ pool: Name, volume: Name, name: Name }, { additionalProperties: false }),
    T.Object({ name: T.String(), key: T.String(), path: T.String() }),
    true,
  ),

  'network.list': cmd('virtual networks', Empty, T.Object({ networks: T.Array(NetworkSummary) }), false),
  'network.get': cmd(
    'one network',
    T.Object({ network: Name }, { additionalProperties: false }),
    NetworkSummary,
    false,
  ),
  'network.define': cmd(
    'define a persistent network',
    T.Object({ xml: Xml }, { additionalProperties: false }),
    NameUuid,
    true,
  ),
  'network.start': cmd(
    'start a network',
    T.Object({ network: Name }, { additionalProperties: false }),
    NetworkSummary,
    true,
  ),
  'network.destroy': cmd(
    'stop a network',
    T.Object({ network: Name }, { additionalProperties: false }),
    NetworkSummary,
    true,
  ),
  'network.undefine': cmd(
    'remove a network definition',
    T.Object({ network: Name }, { additionalProperties: false }),
    NameUuid,
    true,
  ),

  'job.get': cmd(
    'a job by its command id',
    T.Object({ id: T.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
    JobInfo,
    false,
  ),
  'job.list': cmd(
    'jobs of this node',
    T.Object({ state: T.Optional(JobState) }, { additionalProperties: false }),
    T.Object({ jobs: T.Array(JobInfo) }),
    false,
  ),
  'job.cancel': cmd(
    'cancel a job by its command id',
    T.Object({ id: T.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
    JobInfo,
    true,
  ),
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
export type CommandData<C extends CommandName> = Static<(typeof COMMANDS)[C]['data']>;
export type CommandResult<C extends CommandName> = Static<(typeof COMMANDS)[C]['result']>;

export function isCommandName(s: string): s is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, s);
}
