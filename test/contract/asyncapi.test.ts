// contracts/asyncapi.yaml is a valid AsyncAPI 3 document (the official parser).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser, fromFile } from '@asyncapi/parser';

const file = join(__dirname, '..', '..', 'contracts', 'asyncapi.yaml');

test('the AsyncAPI document parses without errors and names both servers and every command', async () => {
  const parser = new Parser();
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const errors = diagnostics.filter((d) => d.severity === 0);
  expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
  expect(document).toBeDefined();
  expect(
    document!
      .servers()
      .all()
      .map((s) => s.protocol())
      .sort(),
  ).toEqual(['amqp', 'mqtt']);
  const channels = document!
    .channels()
    .all()
    .map((c) => c.address());
  expect(channels).toEqual(
    expect.arrayContaining([
      'virtbus.cmd.{node}',
      'v1.{node}.{object}.{id}.{event}',
      'virtbus.fleet.presence', // the presence log (a stream) agents and fleet listings read
      'virtbus/v1/{node}/cmd',
      'virtbus/v1/all/cmd',
      'virtbus/v1/{node}/{object}/{id}/{event}',
      'virtbus/v1/{node}/status',
    ]),
  );
  expect(readFileSync(file, 'utf8')).toContain('virtbus.cmd.domain.migrate');
});
