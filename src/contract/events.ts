// Event `data` schemas (contract v1). Shapes may only grow.
import { Type as T, type Static } from '@sinclair/typebox';

const ObjRef = T.Object({ uuid: T.String(), name: T.String() });

/** virtbus.event.domain.<event>: every libvirt domain event. */
export const DomainEventData = T.Object(
  {
    node: T.String(),
    domain: ObjRef,
    /** lifecycle: defined, started, stopped, …; other events: the event's own name */
    event: T.String(),
    detail: T.Optional(T.String()),
    /** rises by one per domain per agent run (see bootId) */
    seq: T.Integer({ minimum: 1 }),
    /** the domain's state when the agent published (omitted when the domain no longer exists) */
    state: T.Optional(T.String()),
    at: T.String({ format: 'date-time' }),
  },
  { additionalProperties: true, title: 'DomainEventData' },
);
export type DomainEventData = Static<typeof DomainEventData>;

/**
 * virtbus.event.domain.stats: a domain's bulk statistics every
 * --stats-interval seconds (off by default), the typed parameters of
 * virConnectGetAllDomainStats as libvirt names them (cpu.time, balloon.rss,
 * block.0.rd.bytes, net.0.rx.bytes, …). No seq: seq counts state changes.
 */
export const DomainStatsEventData = T.Object(
  {
    node: T.String(),
    domain: ObjRef,
    stats: T.Record(T.String(), T.Union([T.Number(), T.String(), T.Boolean()])),
    at: T.String({ format: 'date-time' }),
  },
  { additionalProperties: true, title: 'DomainStatsEventData' },
);
export type DomainStatsEventData = Static<typeof DomainStatsEventData>;

/** virtbus.event.pool.<event> and virtbus.event.network.<event>. */
export const ObjectEventData = T.Object(
  {
    node: T.String(),
    pool: T.Optional(ObjRef),
    network: T.Optional(ObjRef),
    event: T.String(),
    detail: T.Optional(T.Integer()),
    at: T.String({ format: 'date-time' }),
  },
  { additionalProperties: true, title: 'ObjectEventData' },
);
export type ObjectEventData = Static<typeof ObjectEventData>;

/** virtbus.event.agent.online | heartbeat | offline */
export const PresenceData = T.Object(
  {
    node: T.String(),
    status: T.Union([T.Literal('online'), T.Literal('offline')]),
    bootId: T.String(),
    version: T.String(),
    /** libvirt URI other nodes use to reach this node (peer-to-peer migration) */
    libvirtUri: T.String(),
    transport: T.String(),
    at: T.String({ format: 'date-time' }),
    heartbeatS: T.Optional(T.Number()),
    /** hypervisor data channel peers migrate to (e.g. tcp://10.0.0.2), when it is not the libvirt host */
    migrateUri: T.Optional(T.String()),
  },
  { additionalProperties: true, title: 'PresenceData' },
);
export type PresenceData = Static<typeof PresenceData>;

const SnapDomain = T.Object({
  uuid: T.String(),
  name: T.String(),
  id: T.Integer(),
  state: T.String(),
  reason: T.String(),
  persistent: T.Boolean(),
  /** the last seq published for this domain in this run (0: none yet) */
  seq: T.Integer({ minimum: 0 }),
});
/** virtbus.event.agent.snapshot: the whole node, at start and after every reconnect. */
export const SnapshotData = T.Object(
  {
    node: T.String(),
    bootId: T.String(),
    reason: T.Union([T.Literal('start'), T.Literal('broker-reconnect'), T.Literal('libvirt-reconnect')]),
    at: T.String({ format: 'date-time' }),
    domains: T.Array(SnapDomain),
    pools: T.Array(T.Object({ uuid: T.String(), name: T.String(), state: T.String() })),
    networks: T.Array(T.Object({ uuid: T.String(), name: T.String(), active: T.Boolean() })),
  },
  { additionalProperties: true, title: 'SnapshotData' },
);
export type SnapshotData = Static<typeof SnapshotData>;

/** virtbus.event.command.completed: the outcome of a command sent without reply_to. */
export const CommandCompletedData = T.Object(
  {
    node: T.String(),
    id: T.String(),
    command: T.String(),
    ok: T.Boolean(),
    result: T.Optional(T.Unknown()),
    error: T.Optional(T.Unknown()),
    at: T.String({ format: 'date-time' }),
  },
  { additionalProperties: true, title: 'CommandCompletedData' },
);
export type CommandCompletedData = Static<typeof CommandCompletedData>;

/** virtbus.event.job.started | progress | completed: a long-running command's course, by command id. */
export const JobEventData = T.Object(
  {
    node: T.String(),
    id: T.String(),
    command: T.String(),
    state: T.String(),
    progress: T.Optional(T.Unknown()),
    at: T.String({ format: 'date-time' }),
  },
  { additionalProperties: true, title: 'JobEventData' },
);
export type JobEventData = Static<typeof JobEventData>;

/** reply `data` */
export const ReplyData = T.Union(
  [
    T.Object({ ok: T.Literal(true), result: T.Unknown() }),
    T.Object({
      ok: T.Literal(false),
      error: T.Object({
        code: T.String(),
        message: T.String(),
        libvirt: T.Optional(T.Object({ code: T.Integer(), domain: T.Integer(), name: T.String() })),
        details: T.Optional(T.Unknown()),
      }),
    }),
  ],
  { title: 'ReplyData' },
);
export type ReplyData = Static<typeof ReplyData>;
