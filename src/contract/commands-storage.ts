// The v1 commands pool.* and vol.*: storage pools and volumes. Part of the contract source (commands.ts).
import { Type as T } from '@sinclair/typebox';
import { type CommandSpec, asJob, cmd } from './command-spec';
import { Bytes, Empty, MAX_INT, Name, NameUuid, PoolSummary, VolumeSummary, Xml } from './shapes';

export const STORAGE_COMMANDS = {
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
  'vol.create': asJob(
    cmd(
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
    'sometimes',
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
  'vol.clone': asJob(
    cmd(
      'clone a volume within its pool (job)',
      T.Object({ pool: Name, volume: Name, name: Name }, { additionalProperties: false }),
      T.Object({ name: T.String(), key: T.String(), path: T.String() }),
      true,
    ),
  ),
} satisfies Record<string, CommandSpec>;
