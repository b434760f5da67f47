// The v1 commands network.*: virtual networks. Part of the contract source (commands.ts).
import { Type as T } from '@sinclair/typebox';
import { type CommandSpec, cmd } from './command-spec';
import { Empty, Name, NameUuid, NetworkSummary, Xml } from './shapes';

export const NETWORK_COMMANDS = {
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
} satisfies Record<string, CommandSpec>;
