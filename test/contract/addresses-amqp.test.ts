import { createHash } from 'node:crypto';
import { eventRoutingKey, routingKeyWord } from '../../src/contract/addresses';

test('routing-key words percent-encode dots, percent and control characters, reversibly', () => {
  expect(routingKeyWord('no.reply.0')).toBe('no%2Ereply%2E0');
  expect(routingKeyWord('50%')).toBe('50%25');
  expect(routingKeyWord('a\u0000b\tc')).toBe('a%00b%09c');
  expect(decodeURIComponent(routingKeyWord('a.b%c\u0001'))).toBe('a.b%c\u0001');
  expect(routingKeyWord('c-7f3e_x')).toBe('c-7f3e_x');
});

test('an id with dots stays one word of the key', () => {
  const key = eventRoutingKey('node1', 'command', 'no.reply.0', 'completed');
  expect(key).toBe('v1.node1.command.no%2Ereply%2E0.completed');
  expect(key.split('.')).toHaveLength(5);
});

test('an id that would make the key longer than 255 bytes becomes ~base64url(sha256(id))', () => {
  const id = 'é'.repeat(128); // 256 bytes of UTF-8
  const key = eventRoutingKey('n'.repeat(64), 'command', id, 'completed');
  const digest = createHash('sha256').update(id).digest('base64url');
  expect(key).toBe(`v1.${'n'.repeat(64)}.command.~${digest}.completed`);
  expect(Buffer.byteLength(key)).toBeLessThanOrEqual(255);
  // a short id is never hashed
  expect(eventRoutingKey('node1', 'job', 'é', 'started')).toBe('v1.node1.job.é.started');
});

test('empty parts are refused', () => {
  expect(() => eventRoutingKey('node1', 'command', '', 'completed')).toThrow(/non-empty/);
});
