// CloudEvents 1.0 envelope of every virtbus message (contract v1): its
// media types and type names. The envelope's schema is envelope-schema.ts
// (TypeBox, loaded by the tools, the SDK and the tests; the agent checks
// envelopes with the code generated from it, validators.ts).

export const SPEC_VERSION = '1.0';
export const CE_JSON = 'application/cloudevents+json';
export const CE_PROTOBUF = 'application/cloudevents+protobuf';
export const REPLY_TYPE = 'virtbus.reply';
export { COMMAND_TYPE_PREFIX as COMMAND_PREFIX } from './addresses';
export const EVENT_PREFIX = 'virtbus.event.';

export type { CloudEvent } from './envelope-schema';
