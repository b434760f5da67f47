// The agent's own metrics, moved by its typed events (commands answered,
// events confirmed, publish failures, readiness), its transport's and
// libvirt's connection events, the job system's events and the binding's
// call observer. Labels are bounded: command names outside the contract
// become `unknown`, codes come from the error catalogue, objects and events
// from the contract's addresses, APIs from the binding's function names.
import { Counter, Gauge, Histogram, type Registry } from './prom';
import type { Agent } from '../agent/agent';
import type { Authenticity } from '../auth/authenticity';
import type { Transport } from '../bus/transport';
import { isCommandName } from '../contract/catalogue';
import { COMMAND_PREFIX } from '../contract/envelope';
import { ERROR_CODES } from '../errors';
import type { JobBackend } from '../jobs';
import { observeLibvirtCalls } from '../libvirt/binding';

export interface AgentMetricsSources {
  agent: Agent;
  transport: Transport;
  /** the job system (jobs running, migrations) */
  jobs?: JobBackend;
  /** security refusals by reason */
  authenticity?: Authenticity;
  version: string;
}

/** the catalogue's codes, and the two outcomes that are not errors */
const CODES = new Set<string>(['OK', 'ACCEPTED', ...Object.keys(ERROR_CODES)]);

/** A command label: a contract command name, or `unknown` (a caller cannot make new series). */
export function commandLabel(type: string): string {
  const name = type.startsWith(COMMAND_PREFIX) ? type.slice(COMMAND_PREFIX.length) : type;
  return isCommandName(name) ? name : 'unknown';
}

const codeLabel = (code: string) => (CODES.has(code) ? code : 'INTERNAL');

/** Registers the agent's metrics on `register` and follows the sources; returns a function that stops following. */
export function agentMetrics(register: Registry, s: AgentMetricsSources): () => void {
  const registers = [register];
  const commands = new Counter({
    name: 'virtbus_commands_total',
    help: 'Commands answered, by command and outcome code (OK, ACCEPTED for a job, or the error code)',
    labelNames: ['command', 'code'],
    registers,
  });
  const duration = new Histogram({
    name: 'virtbus_command_duration_seconds',
    help: 'Time from a command delivery to its answer (for a job: to its acceptance)',
    labelNames: ['command'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  new Gauge({
    name: 'virtbus_commands_in_flight',
    help: 'Commands being run now',
    registers,
    collect() {
      this.set(s.agent.dispatcher.counters.inFlight);
    },
  });
  const published = new Counter({
    name: 'virtbus_events_published_total',
    help: 'Events confirmed by the broker, by object and event',
    labelNames: ['object', 'event'],
    registers,
  });
  const failures = new Counter({
    name: 'virtbus_publish_failures_total',
    help: 'Messages that did not reach the broker: event (not published), answer (a command settled without its reply), refused (the broker refused it for good)',
    labelNames: ['reason'],
    registers,
  });
  new Gauge({
    name: 'virtbus_bus_connected',
    help: '1 while the agent is connected to its broker',
    registers,
    collect() {
      this.set(s.agent.readiness().bus ? 1 : 0);
    },
  });
  const reconnects = new Counter({
    name: 'virtbus_bus_reconnects_total',
    help: 'Connections to the broker after the first one',
    registers,
  });
  new Gauge({
    name: 'virtbus_libvirt_connected',
    help: '1 while the agent is connected to libvirt',
    registers,
    collect() {
      this.set(s.agent.libvirt.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'virtbus_ready',
    help: '1 while /readyz answers 200 (bus and libvirt connected, snapshot out, consuming)',
    registers,
    collect() {
      this.set(s.agent.readiness().ready ? 1 : 0);
    },
  });
  const libvirtCalls = new Histogram({
    name: 'virtbus_libvirt_call_duration_seconds',
    help: "Time of the agent's calls into libvirt, by binding function (one call may be several libvirt APIs)",
    labelNames: ['api'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers,
  });
  const jobs = s.jobs;
  new Gauge({
    name: 'virtbus_jobs_running',
    help: 'Long-running commands running now, by kind',
    labelNames: ['kind'],
    registers,
    async collect() {
      this.reset();
      if (!jobs) return;
      const running = await jobs.list({ states: ['running'] }).catch(() => []);
      for (const r of running) this.inc({ kind: r.kind });
    },
  });
  const migrations = new Counter({
    name: 'virtbus_migrations_total',
    help: 'Migrations ended, by outcome (the job state: succeeded, failed, cancelled)',
    labelNames: ['outcome'],
    registers,
  });
  const auth = s.authenticity;
  new Counter({
    name: 'virtbus_refused_total',
    help: 'Commands refused by the authenticity checks (trusted senders, signatures), by reason',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      if (!auth) return;
      for (const [reason, n] of Object.entries(auth.counts())) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: 'virtbus_build_info',
    help: 'The agent version and the Node.js it runs on (always 1)',
    labelNames: ['version', 'nodejs'],
    registers,
  }).set({ version: s.version, nodejs: process.versions.node }, 1);

  const onCommand = (c: { command: string; code: string; seconds: number }) => {
    const command = commandLabel(c.command);
    commands.inc({ command, code: codeLabel(c.code) });
    duration.observe({ command }, c.seconds);
  };
  const onPublished = (e: { object: string; event: string }) => published.inc({ object: e.object, event: e.event });
  const onFailed = (reason: string) => failures.inc({ reason });
  const onConnected = (i: { reconnect: boolean }) => {
    if (i.reconnect) reconnects.inc();
  };
  const onJobCompleted = (_id: string, _reply: unknown, record: { command: string; state: string }) => {
    if (record.command === 'domain.migrate') migrations.inc({ outcome: record.state });
  };
  s.agent.on('command', onCommand);
  s.agent.on('published', onPublished);
  s.agent.on('publish-failed', onFailed);
  s.transport.on('connected', onConnected);
  jobs?.on('completed', onJobCompleted);
  const unobserve = observeLibvirtCalls((api, seconds) => libvirtCalls.observe({ api }, seconds));
  return () => {
    s.agent.off('command', onCommand);
    s.agent.off('published', onPublished);
    s.agent.off('publish-failed', onFailed);
    s.transport.off('connected', onConnected);
    jobs?.off('completed', onJobCompleted);
    unobserve();
  };
}
