// The schema of the CloudEvents 1.0 envelope of every virtbus message
// (contract v1). Part of the contract source: contracts/schemas/ and the
// agent's generated validators (src/contract/gen/) are rendered from it.
import { Type, type Static } from '@sinclair/typebox';

export const CloudEvent = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ minLength: 1, maxLength: 128 }),
    source: Type.String({ minLength: 1 }),
    type: Type.String({ minLength: 1 }),
    time: Type.Optional(Type.String({ format: 'date-time' })),
    subject: Type.Optional(Type.String()),
    datacontenttype: Type.Optional(Type.String()),
    dataschema: Type.Optional(Type.String()),
    data: Type.Optional(Type.Unknown()),
    /** the agent refuses to start the command after this instant (EXPIRED) */
    deadline: Type.Optional(Type.String({ format: 'date-time' })),
    /** MQTT 3.1.1: where to reply and what to echo */
    replyto: Type.Optional(Type.String()),
    correlationid: Type.Optional(Type.String({ maxLength: 128 })),
    /**
     * W3C trace context (the CloudEvents distributed-tracing extension): a
     * command's is carried into its reply, job events and completion event; a
     * malformed one is ignored (a fresh trace starts), never refused
     */
    traceparent: Type.Optional(Type.String()),
    tracestate: Type.Optional(Type.String()),
  },
  { additionalProperties: true, $id: 'https://virtbus.dev/schemas/v1/cloudevent.json', title: 'CloudEvent' },
);
export type CloudEvent = Static<typeof CloudEvent>;
