// Malformed protobuf CloudEvents are BAD_REQUEST, never INTERNAL.
import protobuf from 'protobufjs';
import { decodeProtobufEnvelope } from '../../src/codec/protobuf';
import { CommandError } from '../../src/errors';

/** A CloudEvent written field by field (io.cloudevents.v1.CloudEvent), so entries the encoder would never write can be made. */
function rawCloudEvent(attributeEntries: Uint8Array[]): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string('c1');
  w.uint32((2 << 3) | 2).string('test');
  w.uint32((3 << 3) | 2).string('1.0');
  w.uint32((4 << 3) | 2).string('virtbus.cmd.agent.ping');
  for (const e of attributeEntries) w.uint32((5 << 3) | 2).bytes(e);
  return w.finish();
}

test('an attribute map entry with no value is taken as absent, not a crash', () => {
  const keyOnly = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .string('subject')
    .finish();
  const env = decodeProtobufEnvelope(Buffer.from(rawCloudEvent([keyOnly])));
  expect(env).toMatchObject({ id: 'c1', type: 'virtbus.cmd.agent.ping' });
  expect('subject' in env).toBe(false);
});

test('an attribute named __proto__ stays data', () => {
  const value = protobuf.Writer.create()
    .uint32((3 << 3) | 2)
    .string('x')
    .finish(); // ce_string
  const entry = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .string('__proto__')
    .uint32((2 << 3) | 2)
    .bytes(value)
    .finish();
  const env = decodeProtobufEnvelope(Buffer.from(rawCloudEvent([entry])));
  expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
});

test.each([
  ['garbage', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])],
  ['truncated', Buffer.from(rawCloudEvent([])).subarray(0, 7)],
  ['empty', Buffer.alloc(0)],
])('%s protobuf is BAD_REQUEST', (_name, body) => {
  let err: unknown;
  try {
    decodeProtobufEnvelope(body);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CommandError);
  expect((err as CommandError).code).toBe('BAD_REQUEST');
});
