import { createHash } from 'node:crypto';
import { eventTopic, replyTopicProblem, topicLevel } from '../../src/contract/addresses';

test('topic levels percent-encode / + # % and control characters', () => {
  expect(topicLevel('a/b+c#d%e')).toBe('a%2Fb%2Bc%23d%25e');
  expect(topicLevel('a\u0000b\tc\u007f')).toBe('a%00b%09c%7F');
  expect(topicLevel('é.x')).toBe('é.x');
});

test('an id level longer than 512 bytes becomes ~base64url(sha256(id))', () => {
  const id = 'x'.repeat(100_000);
  expect(eventTopic('node1', 'command', id, 'completed')).toBe(
    `virtbus/v1/node1/command/~${createHash('sha256').update(id).digest('base64url')}/completed`,
  );
});

test('reply topics: wildcards, control characters, $ topics, empty and lone surrogates are refused', () => {
  expect(replyTopicProblem('virtbus/reply/orch-1/abc')).toBeUndefined();
  expect(replyTopicProblem('#')).toMatch(/wildcard/);
  expect(replyTopicProblem('+')).toMatch(/wildcard/);
  expect(replyTopicProblem('a/+/b')).toMatch(/wildcard/);
  expect(replyTopicProblem('$SYS/x')).toMatch(/reserved/);
  expect(replyTopicProblem('')).toMatch(/empty/);
  expect(replyTopicProblem('a\u0000b')).toMatch(/control/);
  expect(replyTopicProblem('a\tb')).toMatch(/control/);
  expect(replyTopicProblem('a\ud800')).toMatch(/Unicode/);
});
