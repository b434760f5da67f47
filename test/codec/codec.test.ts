import { codecFor, jsonCodec, mediaType } from '../../src/codec/codec';
import { protobufCodec } from '../../src/codec/protobuf';

test('media types compare whole and case-insensitively; parameters are ignored', () => {
  expect(mediaType(' Application/CloudEvents+JSON ; charset=utf-8')).toBe('application/cloudevents+json');
  expect(codecFor(undefined)).toBe(jsonCodec);
  expect(codecFor('application/json')).toBe(jsonCodec);
  expect(codecFor('APPLICATION/CLOUDEVENTS+JSON;charset=utf-8')).toBe(jsonCodec);
  expect(codecFor('application/cloudevents+protobuf')).toBe(protobufCodec);
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
