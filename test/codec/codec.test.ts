import { codecFor, jsonCodec, mediaType } from '../../src/codec/codec';
import { protobufCodec } from '../../src/codec/protobuf';

test('media types compare whole and case-insensitively; parameters are ignored', () => {
  expect(mediaType(' Application/CloudEvents+JSON ; charset=utf-8')).toBe('application/cloudevents+json');
  expect(codecFor(undefined)).toBe(jsonCodec);
  expect(codecFor('application/json')).toBe(jsonCodec);
  expect(codecFor('APPLICATION/CLOUDEVENTS+JSON;charset=utf-8')).toBe(jsonCodec);
  // the protobuf codec is loaded at first use; what it encodes is protobufCodec's
  const pb = codecFor('application/cloudevents+protobuf')!;
  expect(pb.contentType).toBe(protobufCodec.contentType);
  const e = pb.encodeEvent({ type: 'virtbus.event.agent.heartbeat', source: 'virtbus://n1', data: { node: 'n1' } });
  expect(protobufCodec.decode(e.body)).toEqual(pb.decode(e.body));
  expect(pb.decode(e.body)).toMatchObject({ id: e.id, type: 'virtbus.event.agent.heartbeat', source: 'virtbus://n1' });
  for (const t of [
    'application/cloudevents+jsonx',
    'application/jsonp',
    'application/cloudevents+protobufz',
    'text/plain',
    'application/cloudevents',
  ]) {
    expect(codecFor(t)).toBeUndefined();
  }
});
