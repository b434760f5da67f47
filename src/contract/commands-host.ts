// The v1 commands agent.* and node.*: the agent itself and its hypervisor host. Part of the contract source (commands.ts).
import { Type as T } from '@sinclair/typebox';
import { type CommandSpec, cmd } from './command-spec';
import { Empty } from './shapes';

export const HOST_COMMANDS = {
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
      /** commands refused by command authenticity, by reason (present when trusted senders or keys are configured) */
      refused: T.Optional(
        T.Object({
          senderNotTrusted: T.Integer(),
          signatureRequired: T.Integer(),
          unknownKey: T.Integer(),
          badSignature: T.Integer(),
          staleTime: T.Integer(),
          commandNotAllowed: T.Integer(),
        }),
      ),
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
} satisfies Record<string, CommandSpec>;
