// The protobuf message that carries each CloudEvent's data (virtbus.v1.*),
// named the same way by the codec at run time and by the generator that
// renders proto/virtbus/v1/ (tools/contract/proto-gen.ts).
import { Type as T } from '@sinclair/typebox';
import { isCommandName, type CommandName } from './commands';
import {
  CommandCompletedData,
  DomainEventData,
  DomainStatsEventData,
  JobEventData,
  ObjectEventData,
  PresenceData,
  SnapshotData,
} from './events';
import { pascal } from './proto-schema';
import { COMMAND_PREFIX, REPLY_TYPE } from './envelope';

export const PROTO_PACKAGE = 'virtbus.v1';

export const ErrorSchema = T.Object({
  code: T.String(),
  message: T.String(),
  libvirt: T.Optional(T.Object({ code: T.Integer(), domain: T.Integer(), name: T.String() })),
  details: T.Optional(T.Unknown()),
});

export const EVENT_MESSAGES = {
  DomainEventData,
  ObjectEventData,
  PresenceData,
  SnapshotData,
  CommandCompletedData,
  JobEventData,
  DomainStatsEventData,
} as const;
export type EventMessageName = keyof typeof EVENT_MESSAGES;

export const commandMessage = (c: CommandName, part: 'Data' | 'Result' | 'Reply') => `${pascal(c)}${part}`;

/** The message type of a CloudEvent's data, or undefined (then it travels as JSON text). */
export function dataMessageFor(type: string, subject?: string): string | undefined {
  if (type.startsWith(COMMAND_PREFIX)) {
    const c = type.slice(COMMAND_PREFIX.length);
    return isCommandName(c) ? commandMessage(c, 'Data') : undefined;
  }
  if (type === REPLY_TYPE) {
    const c = subject?.startsWith(COMMAND_PREFIX) ? subject.slice(COMMAND_PREFIX.length) : undefined;
    // own names only: 'constructor' is `in` every object
    return c && isCommandName(c) ? commandMessage(c, 'Reply') : undefined;
  }
  const m = /^virtbus\.event\.([a-z]+)\.(.+)$/.exec(type);
  if (!m) return undefined;
  const [, object, event] = m;
  if (object === 'domain') return event === 'stats' ? 'DomainStatsEventData' : 'DomainEventData';
  if (object === 'pool' || object === 'network') return 'ObjectEventData';
  if (object === 'agent') return event === 'snapshot' ? 'SnapshotData' : 'PresenceData';
  if (object === 'command' && event === 'completed') return 'CommandCompletedData';
  if (object === 'job') return 'JobEventData';
  return undefined;
}
