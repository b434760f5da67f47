// Intake fuzz (issue 9, item 5): a real agent process on each transport gets
// at least 10,000 hostile commands generated from two seeds, a fixed one
// (VIRTBUS_FUZZ_SEED, default below) and a random one (VIRTBUS_FUZZ_RANDOM_SEED
// to replay it), both printed. Random bytes, truncated and deeply nested JSON,
// non-CloudEvents, wrong specversion, schema-invalid data for every command,
// unknown commands, ids and types with control characters, dots, multi-byte
// characters and lengths 0…100k, bad reply addresses and correlation data,
// bogus content types and garbage protobuf, oversized messages. Nothing valid
// is sent except agent.ping and domain.list (test/helpers/fuzz/generator.ts
// checks every message before it goes).
//
// Checked, by the intake rules (README "Error codes"; issue 9):
//  - every command with a usable reply address gets a reply with a contract
//    error code (never INTERNAL); every other one its command.completed event
//    or a dead letter;
//  - afterwards a valid command is answered within 1 s;
//  - after an agent restart nothing poisonous is left in the queue or session;
//  - the agent's RSS stays bounded.
//
// Knobs: VIRTBUS_FUZZ_COUNT (default 10000 per transport), VIRTBUS_FUZZ_ONLY /
// VIRTBUS_FUZZ_EXCLUDE (comma-separated case classes, for narrowing a failure
// down), VIRTBUS_FUZZ_WINDOW (cases outstanding at once, default 64; 1 sends
// one at a time, so a stall or crash names its case), VIRTBUS_FUZZ_AGENT_MAIN
// (another build of dist/agent/main.js).
import { AmqpBus, MqttBus, type Bus } from '../helpers/fuzz/buses';
import { CLASSES, generateCase, type Profile } from '../helpers/fuzz/generator';
import { Rng, randomSeed, seedFromEnv } from '../helpers/fuzz/rng';
import { CONNECTION_LOSS_LOG, failureDigest, formatReport, runFuzz, type FuzzReport } from '../helpers/fuzz/run';

const DEFAULT_SEED = 0x5eed0009;
const COUNT = Number(process.env.VIRTBUS_FUZZ_COUNT ?? 10000);
const FIXED_SEED = seedFromEnv('VIRTBUS_FUZZ_SEED', DEFAULT_SEED);
const RANDOM_SEED = seedFromEnv('VIRTBUS_FUZZ_RANDOM_SEED', randomSeed());
const MAX_MESSAGE_BYTES = 262144;
/** RSS may grow by this much over the run (V8 heap settling, caches); a leak per message grows far more */
const RSS_GROWTH_LIMIT_KIB = 160 * 1024;
const RSS_PEAK_LIMIT_KIB = 640 * 1024;

const classes = (v: string | undefined) => {
  if (!v) return undefined;
  const s = new Set(
    v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
  for (const c of s)
    if (!CLASSES.includes(c)) throw new Error(`unknown fuzz class '${c}'; classes: ${CLASSES.join(', ')}`);
  return s;
};

describe('intake fuzz generator', () => {
  test('is deterministic for a seed (a printed seed replays the run) and checks every case is harmless', () => {
    for (const profile of ['amqp', 'mqtt5', 'mqtt4'] as Profile[]) {
      const ctx = { profile, node: 'n', replyTo: 'r', oddReplyTo: ['o'], maxMessageBytes: MAX_MESSAGE_BYTES };
      const run = () => {
        const rng = new Rng(RANDOM_SEED);
        return Array.from({ length: 300 }, (_, n) => generateCase(rng, 'R', RANDOM_SEED, n, ctx));
      };
      const [a, b] = [run(), run()];
      expect(b.map((c) => c.body.toString('hex'))).toEqual(a.map((c) => c.body.toString('hex')));
      expect(b.map((c) => [c.expect, c.replyKey, c.completionKey, c.replyTo, c.contentType])).toEqual(
        a.map((c) => [c.expect, c.replyKey, c.completionKey, c.replyTo, c.contentType]),
      );
    }
  });
});

const TRANSPORTS: Array<[string, () => Bus]> = [
  ['RabbitMQ AMQP 0-9-1', () => new AmqpBus()],
  ['Mosquitto MQTT 5', () => new MqttBus(5)],
  ['Mosquitto MQTT 3.1.1', () => new MqttBus(4)],
];

describe.each(TRANSPORTS)('intake fuzz on %s', (name, makeBus) => {
  let report: FuzzReport | undefined;
  let setupError: Error | undefined;

  beforeAll(async () => {
    console.log(
      `intake fuzz on ${name}: ${COUNT} cases, seeds fixed=${FIXED_SEED} random=${RANDOM_SEED} (replay: VIRTBUS_FUZZ_SEED=${FIXED_SEED} VIRTBUS_FUZZ_RANDOM_SEED=${RANDOM_SEED})`,
    );
    try {
      report = await runFuzz(makeBus(), {
        count: COUNT,
        fixedSeed: FIXED_SEED,
        randomSeed: RANDOM_SEED,
        only: classes(process.env.VIRTBUS_FUZZ_ONLY),
        exclude: classes(process.env.VIRTBUS_FUZZ_EXCLUDE),
        maxMessageBytes: MAX_MESSAGE_BYTES,
        window: Number(process.env.VIRTBUS_FUZZ_WINDOW ?? 64),
        caseTimeoutMs: 10000,
        stallMs: 6000,
        maxStalls: Number(process.env.VIRTBUS_FUZZ_MAX_STALLS ?? 3),
        quietMs: 8000,
        overallMs: 90000,
        afterRestartMs: 2500,
      });
      console.log(formatReport(report));
    } catch (e) {
      setupError = e as Error;
    }
  }, 240000);

  const get = (): FuzzReport => {
    if (setupError) throw setupError;
    return report!;
  };

  test(`sends at least ${COUNT} hostile commands from the two seeds`, () => {
    const r = get();
    // the agent process must survive the whole run (a crash ends the sending early)
    expect({ sent: r.sent, agentDied: r.agentDied, harnessProblems: r.harnessProblems }).toEqual({
      sent: COUNT,
      agentDied: undefined,
      harnessProblems: [],
    });
  });

  test('answers each with a reply carrying a contract error code (never INTERNAL), else its completion event or a dead letter', () => {
    const r = get();
    const digest = failureDigest(r.failures);
    if (r.failures.length)
      throw new Error(
        `${r.failures.length} violations (seeds fixed=${r.seeds.fixed} random=${r.seeds.random}):\n${digest}`,
      );
  });

  test('no hostile command costs the agent its broker connection (nothing it publishes is refused by the broker)', () => {
    const r = get();
    const status = (typeof r.agentStatus === 'object' && r.agentStatus !== null ? r.agentStatus : {}) as {
      bus?: { publishDropped?: number };
    };
    const got = {
      ...Object.fromEntries(CONNECTION_LOSS_LOG.map((m) => [m, r.agentLog.warnings[m]?.n ?? 0])),
      publishDropped: status.bus?.publishDropped ?? 0,
    };
    const want = { ...Object.fromEntries(CONNECTION_LOSS_LOG.map((m) => [m, 0])), publishDropped: 0 };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      const first = CONNECTION_LOSS_LOG.flatMap((m) => r.agentLog.warnings[m]?.first.slice(0, 2) ?? []).map(
        (l) => `  ${JSON.stringify(l).slice(0, 700)}`,
      );
      const suspects = r.directReplyTo
        .slice(0, 3)
        .map((d) => `  sent with a direct reply-to name the broker never issued: ${d}`);
      throw new Error(
        `the agent lost its connection or dropped refused messages: ${JSON.stringify(got)}\n${[...first, ...suspects].join('\n')}`,
      );
    }
  });

  test('answers a valid command within 1 s afterwards', () => {
    const r = get();
    expect(r.pingAfterError ?? 'answered').toBe('answered');
    expect(r.pingAfterMs).toBeLessThanOrEqual(1000);
  });

  test('leaves nothing poisonous after a restart: queue empty, no old command again, a valid one answered within 1 s', () => {
    const r = get();
    const rs = r.restart as NonNullable<FuzzReport['restart']> & { redeliveredCount?: number };
    expect(rs).toBeDefined();
    const got = {
      stoppedCleanly: rs.exitCode === 0,
      queueDepth: rs.queueDepth ?? 0,
      oldCommandsAnsweredAgain: rs.redeliveredCount ?? 0,
      validCommand: rs.pingError ?? (rs.pingMs! <= 1000 ? 'answered within 1 s' : `answered after ${rs.pingMs} ms`),
    };
    const want = {
      stoppedCleanly: true,
      queueDepth: 0,
      oldCommandsAnsweredAgain: 0,
      validCommand: 'answered within 1 s',
    };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(
        `after the restart: ${JSON.stringify(got)}\n${rs.redeliveredCases
          .slice(0, 5)
          .map((d) => `  answered again: ${d}`)
          .join('\n')}\n` +
          `${rs.redelivered
            .slice(0, 5)
            .map((a) => `  ${a.kind} ${a.where}: ${a.summary.slice(0, 200)}`)
            .join('\n')}`,
      );
    }
  });

  test("keeps the agent's RSS bounded", () => {
    const r = get();
    const { beforeKiB, afterKiB, peakKiB } = r.memory;
    expect(beforeKiB).toBeDefined();
    expect(afterKiB).toBeDefined();
    expect(afterKiB! - beforeKiB!).toBeLessThanOrEqual(RSS_GROWTH_LIMIT_KIB);
    expect(peakKiB).toBeLessThanOrEqual(RSS_PEAK_LIMIT_KIB);
  });
});
