// virtbus benchmark suite: every agent figure next to a baseline measured in
// the same run on the same machine, the ratio, the target and whether it is
// met. The agent runs in its own process; so do the baselines' responders.
//
//   node dist/bench/main.js [--json] [--only amqp,mqtt,lab,events,startup] [--quick]
//
// Needs RabbitMQ on 127.0.0.1:5672 (VIRTBUS_BENCH_AMQP_URL) and the mosquitto
// binary (a private broker is started on a free port). The lab rows measure
// qemu:///system (VIRTBUS_BENCH_LAB_URI) when `virsh list` works there.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { runAllCleanups } from './lib/cleanup';
import { failed, renderTable, type Row } from './lib/report';
import { runEvents } from './events';
import { AMQP_URL, type BenchOptions } from './options';
import { runAmqpRequests, runLabRequests, runMqttRequests } from './requests';
import { runStartup } from './startup';

const SCENARIOS: Record<string, { what: string; run: (o: BenchOptions) => Promise<Row[]> }> = {
  amqp: { what: 'domain.get over AMQP vs bare amqplib echo', run: runAmqpRequests },
  mqtt: { what: 'domain.get over MQTT 5 vs bare mqtt.js echo (private Mosquitto)', run: runMqttRequests },
  lab: { what: 'domain.get against the lab libvirtd', run: runLabRequests },
  events: { what: 'lifecycle events on 1,000 domains vs amqplib stand-in', run: runEvents },
  startup: { what: 'start → ready and RSS vs bare node', run: runStartup },
};

/** the whole run stops by itself after this, whatever hangs */
const RUN_LIMIT_MS = 15 * 60_000;

const USAGE = `node dist/bench/main.js [--json] [--only NAME,...] [--quick]
  --json    one JSON document on stdout instead of the table
  --only    some of: ${Object.keys(SCENARIOS).join(', ')}
  --quick   shorter runs (a smoke test, about a minute)
Environment: VIRTBUS_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672),
  VIRTBUS_BENCH_LAB_URI (default qemu:///system), VIRTBUS_BENCH_LAB_DOMAIN (default: the first listed),
  VIRTBUS_BENCH_MOSQUITTO (mosquitto binary)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of only ?? [])
    if (!SCENARIOS[name]) {
      process.stderr.write(`unknown scenario '${name}'\n${USAGE}\n`);
      return 2;
    }
  const started = new Date();
  const o: BenchOptions = {
    quick: values.quick,
    amqpUrl: AMQP_URL,
    problems: [],
    details: {},
    log: (msg) => process.stderr.write(`[bench ${((Date.now() - started.getTime()) / 1000).toFixed(0)}s] ${msg}\n`),
  };
  const rows: Row[] = [];
  let crashed = false;
  for (const [name, s] of Object.entries(SCENARIOS)) {
    if (only && !only.includes(name)) continue;
    o.log(`${name}: ${s.what}`);
    try {
      rows.push(...(await s.run(o)));
    } catch (e) {
      crashed = true;
      const msg = (e as Error)?.message ?? String(e);
      o.problems.push(`${name}: failed: ${msg}`);
      rows.push(failed(name, `${name}: ${s.what}`, msg));
    }
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model };
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ startedAt: started.toISOString(), seconds, quick: o.quick, machine, rows, problems: o.problems, details: o.details }, null, 2)}\n`,
    );
  } else {
    const title = `virtbus bench ${started.toISOString()}${o.quick ? ' (--quick)' : ''}: node ${machine.node}, ${machine.cpus} CPUs, ${seconds.toFixed(0)} s`;
    process.stdout.write(`${renderTable(rows, title)}\n`);
    process.stdout.write(
      '\nbaseline: measured in this run on this machine; ratio = agent / baseline; ok? checks the target (ratio or absolute).\n',
    );
    if (o.problems.length) process.stdout.write(`\nproblems seen:\n${o.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  }
  return crashed ? 1 : 0;
}

let exiting = false;
async function stop(code: number, why?: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  if (why) process.stderr.write(`bench: ${why}; stopping what it started\n`);
  const failures = await runAllCleanups();
  for (const f of failures) process.stderr.write(`bench: ${f}\n`);
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop(130, sig));
setTimeout(() => void stop(3, `still running after ${RUN_LIMIT_MS / 60_000} min`), RUN_LIMIT_MS).unref();

main().then(
  (code) => void stop(code),
  (e) => {
    process.stderr.write(`bench: ${String((e as Error)?.stack ?? e)}\n`);
    void stop(1);
  },
);
