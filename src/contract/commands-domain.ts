// The v1 commands domain.*: guests, their devices, snapshots and migration. Part of the contract source (commands.ts).
import { Type as T } from '@sinclair/typebox';
import { type CommandSpec, asJob, cmd, Lifecycle } from './command-spec';
import {
  Affect,
  DomainRef,
  DomainStateResult,
  DomainStateWord,
  DomainSummary,
  MAX_INT,
  Name,
  NameUuid,
  Xml,
  Literals,
} from './shapes';
import { NODE_ID_PATTERN } from './addresses';

export const DOMAIN_COMMANDS = {
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
    Lifecycle({ mode: T.Optional(Literals(['default', 'acpi', 'agent'])) }),
    DomainStateResult,
    true,
  ),
  'domain.reboot': cmd(
    'ask the guest to reboot',
    Lifecycle({ mode: T.Optional(Literals(['default', 'acpi', 'agent'])) }),
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
        bus: T.Optional(Literals(['virtio', 'scsi', 'sata', 'ide', 'usb'])),
        format: T.Optional(Literals(['raw', 'qcow2'])),
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
  'domain.save': asJob(
    cmd(
      "save the memory state to a file in the agent's save directory (job)",
      Lifecycle({ path: T.String({ minLength: 1, maxLength: 4096 }), bypassCache: T.Optional(T.Boolean()) }),
      T.Object({ uuid: T.String(), name: T.String(), path: T.String() }),
      true,
    ),
  ),
  'domain.restore': asJob(
    cmd(
      'restore a saved domain (job)',
      T.Object(
        { path: T.String({ minLength: 1, maxLength: 4096 }), paused: T.Optional(T.Boolean()) },
        { additionalProperties: false },
      ),
      DomainStateResult,
      true,
    ),
  ),
  'domain.migrate': asJob(
    cmd(
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
  ),
  'domain.snapshot.create': asJob(
    cmd(
      'create a snapshot (job)',
      Lifecycle({ snapshot: T.Optional(Name), description: T.Optional(T.String({ maxLength: 4096 })) }),
      T.Object({ uuid: T.String(), name: T.String(), snapshot: T.String() }),
      true,
    ),
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
  'domain.snapshot.revert': asJob(
    cmd(
      'revert to a snapshot (job)',
      Lifecycle({ snapshot: Name, running: T.Optional(T.Boolean()), paused: T.Optional(T.Boolean()) }),
      T.Object({ uuid: T.String(), name: T.String(), snapshot: T.String(), state: DomainStateWord }),
      true,
    ),
  ),
  'domain.snapshot.delete': asJob(
    cmd(
      'delete a snapshot (job)',
      Lifecycle({ snapshot: Name, children: T.Optional(T.Boolean()) }),
      T.Object({ snapshot: T.String() }),
      true,
    ),
  ),
} satisfies Record<string, CommandSpec>;
