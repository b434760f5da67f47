// The fault suite's checks catch what they claim to (a checker that never
// fails proves nothing): a lost command, a second execution, a seq gap.
import { Load, verdict, type Boot } from '../helpers/fault-load';
import { Orchestrator, type Call, type ReplyData } from '../helpers/orchestrator';

class Recorded extends Orchestrator {
  constructor() {
    super('n1', 1000);
  }
  protected send(): Promise<void> {
    return Promise.resolve();
  }
  async close(): Promise<void> {
    /* nothing */
  }
  event(id: string, name: string, event: string, seq: number, at: number, detail?: string): void {
    this.onEvent({
      id,
      type: 'virtbus.event.domain.lifecycle',
      data: { domain: { uuid: `u-${name}`, name }, event, detail, seq, at: new Date(at).toISOString() },
    });
  }
}

let n = 0;
const call = (command: string, final?: ReplyData): Call => ({
  id: `c${n++}`,
  command,
  data: {},
  issuedAt: 0,
  attempts: 1,
  sends: [0],
  replies: [],
  ...(final && { final, answeredAt: 1 }),
});
const ok: ReplyData = { ok: true, result: {} };

function scenario() {
  const client = new Recorded();
  const load = new Load(client, {
    definesPerS: 0,
    defineXml: () => '',
    prefix: 'd',
    lifecycle: [],
    lifecyclePauseMs: 0,
  });
  const boots: Boot[] = [{ startedAt: 1000 }, { startedAt: 5000 }];
  load.defines.set('d1', call('domain.define', ok));
  load.defines.set('d2', call('domain.define', ok));
  load.lifecycleCalls.push(
    { domain: 'vm', call: call('domain.suspend', ok) },
    { domain: 'vm', call: call('domain.resume', ok) },
  );
  client.event('e1', 'd1', 'defined', 1, 1100, 'added');
  client.event('e2', 'd2', 'defined', 1, 1200, 'added');
  client.event('e3', 'vm', 'suspended', 1, 1300);
  client.event('e4', 'vm', 'resumed', 1, 5100); // the second run numbers from 1 again
  return { client, load, boots };
}

test('a clean run passes; an event received twice is dropped, not counted', () => {
  const { client, load, boots } = scenario();
  client.event('e1', 'd1', 'defined', 1, 1100, 'added');
  const v = verdict(client, load, { boots });
  expect(v).toMatchObject({
    issued: 4,
    answeredOk: 4,
    lost: [],
    executedTwice: [],
    seqGaps: [],
    missingEvents: [],
    duplicateEvents: 1,
  });
});

test('a command without a final reply is lost; an error not allowed is a failure', () => {
  const { client, load, boots } = scenario();
  load.defines.set('d3', call('domain.define'));
  load.defines.set('d4', call('domain.define', { ok: false, error: { code: 'LIBVIRT', message: 'x' } }));
  const v = verdict(client, load, { boots });
  expect(v.lost).toHaveLength(1);
  expect(v.unexpectedErrors).toHaveLength(1);
});

test('a define seen as an update, or a lifecycle event more than ok commands, is a second execution', () => {
  const { client, load, boots } = scenario();
  client.event('e5', 'd1', 'defined', 2, 1400, 'updated');
  client.event('e6', 'vm', 'suspended', 2, 5200);
  const v = verdict(client, load, { boots });
  expect(v.executedTwice).toEqual([
    expect.stringContaining('d1: defined 1× added, 1× updated'),
    expect.stringContaining('vm: 2 suspended events for 1 ok'),
  ]);
});

test("a hole in a run's seqs is a gap; a missing tail is not", () => {
  const { client, load, boots } = scenario();
  client.event('e7', 'vm', 'resumed', 3, 1500); // run 0 of vm: 1, 3
  const v = verdict(client, load, { boots, eventsMayBeMissing: true });
  expect(v.seqGaps).toEqual([expect.stringContaining('run 0 domain vm')]);
});
