// Every golden example conforms to its schema and survives both codecs.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkMessage } from '../../src/contract/check';
import { decodeJsonEnvelope, encodeJsonEnvelope } from '../../src/codec/json';
import { decodeProtobufEnvelope, encodeProtobufEnvelope } from '../../src/codec/protobuf';
import { COMMANDS } from '../../src/contract/commands';

const dir = join(__dirname, '..', '..', 'contracts', 'examples');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();
const load = (n: string) => JSON.parse(readFileSync(join(dir, `${n}.json`), 'utf8'));

test('there is an example of every command and reply, and of every event family', () => {
  for (const c of Object.keys(COMMANDS)) {
    expect(names).toContain(`command.${c}`);
    expect(names).toContain(`reply.${c}`);
  }
  for (const e of [
    'event.domain.lifecycle.started',
    'event.domain.device-removed.device-removed',
    'event.pool.lifecycle.started',
    'event.network.lifecycle.started',
    'event.agent.online',
    'event.agent.offline',
    'event.agent.heartbeat',
    'event.agent.snapshot',
    'event.command.completed',
  ]) {
    expect(names).toContain(e);
  }
});

describe.each(names)('%s', (name) => {
  const json = load(name);
  test('conforms to its schemas', () => {
    expect(checkMessage(json)).toEqual([]);
  });
  test('round-trips through the JSON and protobuf codecs, and matches its golden .pb', () => {
    expect(decodeJsonEnvelope(encodeJsonEnvelope(json).body)).toEqual(json);
    expect(decodeProtobufEnvelope(encodeProtobufEnvelope(json))).toEqual(json);
    expect(decodeProtobufEnvelope(readFileSync(join(dir, `${name}.pb`)))).toEqual(json);
  });
});

test('a broken example is caught by the checks', () => {
  const broken = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'broken-reply.domain.get.json'), 'utf8'));
  const problems = checkMessage(broken);
  expect(problems.join('\n')).toMatch(/result of domain.get: .*\/memoryKiB must be integer/);
  expect(problems.join('\n')).toMatch(/\/state must be equal to constant|\/state must match a schema in anyOf/);
});
