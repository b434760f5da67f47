// The per-node agent: libvirt events out, commands in, over one transport.
// Start: libvirt (events subscribed) → transport connects, declares topology,
// publishes online + snapshot → consumes. Close runs in order: stop consuming
// → finish in-flight commands → flush events → offline → libvirt → transport.
import { randomUUID } from 'node:crypto';
import type { Transport } from '../bus/transport';
import { jsonCodec, type MessageCodec } from '../codec/codec';
import { CommandDispatcher, type DispatcherOptions } from '../commands/dispatcher';
import { EventPublisher } from '../events/publisher';
import { StatsPublisher } from '../events/stats';
import { ReconnectingConnection, type Connection } from '../libvirt';
import type { Logger } from '../log';
import { TypedEmitter } from '../typed-emitter';
import { Gate } from './gate';
import { CommandIntake } from './intake';
import { PeerDirectory } from './peers';
import { createJobBackend, type JobBackendConfig } from '../jobs/factory';
import type { JobBackend } from '../jobs/types';
import { jobRunners, kindConcurrency } from '../jobs/kinds';
import { JobWaiters } from './job-waiters';
import { JobReplies } from './job-replies';
import { AGENT_VERSION } from './version';
import { withTimeout } from '../timeout';
import type { Authenticity } from '../auth/authenticity';

export interface AgentOptions {
  nodeId: string;
  libvirtUri: string;
  readOnly?: boolean;
  /** libvirt URI other nodes use to reach this one (presence); default libvirtUri */
  advertiseUri?: string;
  transport: Transport;
  log: Logger;
  codec?: MessageCodec;
  heartbeatS?: number;
  maxMessageBytes?: number;
  /** a larger reply becomes an error reply (default 16 MiB) */
  maxOutgoingBytes?: number;
  /** the bound of the whole close(): in-flight commands, then events, offline, libvirt, broker (ms, default 30000) */
  drainMs?: number;
  /** at most this much of drainMs is kept for event confirms, the offline event and closing (ms, default 10000) */
  closeTimeoutMs?: number;
  dispatcher?: DispatcherOptions;
  /** the job system for long-running commands (default: none, they are UNSUPPORTED) */
  jobs?: AgentJobOptions;
  /** other agents by node id, for domain.migrate {to} (default: looked up on this agent's transport) */
  peers?: PeerDirectory;
  /** hypervisor data channel peers migrate to, announced in presence */
  advertiseMigrateUri?: string;
  /** who may send commands (trusted senders, signed commands); without: anyone who can publish */
  authenticity?: Authenticity;
  /** where the bus is, for the log (credentials removed: describeEndpoint) */
  busDescription?: string;
  /** publish virtbus.event.domain.stats for every domain this often (ms; default 0: never) */
  statsIntervalMs?: number;
}

export interface AgentJobOptions {
  backend: JobBackendConfigWithoutRunners;
  /** save/restore files live here */
  saveDir: string;
  /** progress sampling of running jobs (ms, default 1000) */
  progressIntervalMs?: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type JobBackendConfigWithoutRunners = DistributiveOmit<JobBackendConfig, 'runners'>;

export type AgentEvents = {
  /** consuming commands; snapshot published */
  ready: () => void;
  /** close() finished */
  closed: () => void;
  /** a command was answered (reply, completion event or job accepted): its name (as sent), outcome code and time taken */
  command: (c: CommandOutcome) => void;
  /** an event was confirmed by the broker */
  published: (e: { object: string; event: string }) => void;
  /** something meant for the broker did not get there: an event, a command's answer, or a message the broker refused for good */
  'publish-failed': (reason: 'event' | 'answer' | 'refused') => void;
  /** readiness changed (readyz, systemd's watchdog) */
  readiness: (r: Readiness) => void;
};

export interface CommandOutcome {
  /** the command name as the caller sent it ('' when it could not be read) */
  command: string;
  /** OK, ACCEPTED (handed to the job system) or the contract's error code */
  code: string;
  seconds: number;
}

/** What /readyz reports: ready when all four hold and the agent is not stopping. */
export interface Readiness {
  ready: boolean;
  bus: boolean;
  libvirt: boolean;
  /** the snapshot after the last (re)connect of the bus and of libvirt is out */
  snapshot: boolean;
  consuming: boolean;
}

export class Agent extends TypedEmitter<AgentEvents> {
  readonly bootId = randomUUID();
  readonly libvirt: ReconnectingConnection;
  readonly dispatcher: CommandDispatcher;
  readonly publisher: EventPublisher;
  private readonly intake: CommandIntake;
  private readonly startedAt = Date.now();
  private heartbeat?: NodeJS.Timeout;
  private closing?: Promise<void>;
  private online = false;
  private readonly libvirtGate = new Gate();
  readonly jobs?: JobBackend;
  private readonly waiters?: JobWaiters;
  private readonly jobReplies?: JobReplies;
  private readonly stats?: StatsPublisher;
  private busUp = false;
  private busSnapshot = false;
  private consuming = false;
  private lastReady = false;

  constructor(private readonly o: AgentOptions) {
    super();
    const log = o.log;
    this.libvirt = new ReconnectingConnection(o.libvirtUri, { readOnly: o.readOnly });
    const current = (): Connection | undefined => (this.libvirt.connected ? this.libvirt.connection : undefined);
    this.publisher = new EventPublisher({
      node: o.nodeId,
      bootId: this.bootId,
      transport: o.transport,
      codec: o.codec ?? jsonCodec,
      connection: current,
      onError: (err, e) => {
        log.error({ err, event: `${e.object}.${e.event}` }, 'event not published');
        this.emit('publish-failed', 'event');
      },
      onPublished: (e) => this.emit('published', e),
      onStateUnreadable: (err, uuid) =>
        log.warn({ err, uuid }, 'domain state unreadable; the event goes out without it'),
    });
    if (o.jobs) {
      const runners = jobRunners({
        connection: () => this.libvirt.connection,
        saveDir: o.jobs.saveDir,
        pollIntervalMs: o.jobs.progressIntervalMs,
      });
      const windowMs = o.dispatcher?.idempotency?.windowMs;
      this.jobs = createJobBackend({
        ...o.jobs.backend,
        runners,
        bootId: this.bootId,
        concurrency: { ...kindConcurrency(), ...o.jobs.backend.concurrency },
        ...(windowMs !== undefined && { idempotencyWindowMs: windowMs }),
      } as JobBackendConfig);
      this.waiters = new JobWaiters(this.jobs, (to, reply) => this.intake.replyLater(to, reply));
    }
    this.dispatcher = new CommandDispatcher(
      {
        jobs: this.jobs,
        idempotency: this.jobs?.idempotency,
        // looked up on this agent's own connection when a migration names a node
        peers: o.peers ?? new PeerDirectory({ transport: o.transport, self: o.nodeId, log }),
        connection: () => this.libvirt.connection,
        agent: {
          node: o.nodeId,
          bootId: this.bootId,
          version: AGENT_VERSION,
          status: () => this.status(),
          libvirtUri: o.advertiseUri ?? o.libvirtUri,
          ...(o.advertiseMigrateUri && { migrateUri: o.advertiseMigrateUri }),
        },
        libvirtReady: (ms) => this.libvirtGate.wait(ms),
      },
      { readOnly: o.readOnly, ...o.dispatcher },
    );
    this.intake = new CommandIntake({
      node: o.nodeId,
      transport: o.transport,
      dispatcher: this.dispatcher,
      publisher: this.publisher,
      log,
      maxMessageBytes: o.maxMessageBytes ?? 1024 * 1024,
      maxOutgoingBytes: o.maxOutgoingBytes,
      ...(this.waiters && { waiters: this.waiters }),
      ...(o.authenticity && { authenticity: o.authenticity }),
      onAnswered: (c) => this.emit('command', c),
      onUnanswered: () => this.emit('publish-failed', 'answer'),
    });
    if (this.jobs) {
      this.jobReplies = new JobReplies({
        node: o.nodeId,
        jobs: this.jobs,
        publisher: this.publisher,
        log,
        replyLater: (to, reply) => this.intake.replyLater(to, reply),
        ...(this.waiters && { waiters: this.waiters }),
      });
    }

    if (o.statsIntervalMs) {
      this.stats = new StatsPublisher({
        node: o.nodeId,
        publisher: this.publisher,
        connection: current,
        intervalMs: o.statsIntervalMs,
        onError: (err) => log.warn({ err: String(err) }, 'domain statistics not published this round'),
      });
    }
    this.libvirt.on('event', (e) => this.publisher.enqueueLibvirt(e));
    this.libvirt.on('connect-failed', (err, i) =>
      log.warn({ err: String(err), ...i, uri: o.libvirtUri }, 'libvirt connect failed'),
    );
    this.libvirt.on('disconnected', (i) => {
      log.warn({ ...i, uri: o.libvirtUri }, 'libvirt connection lost');
      this.libvirtGate.close();
      this.readinessChanged();
    });
    this.libvirt.on('reconnected', (_c, i) => {
      log.info({ ...i, uri: o.libvirtUri }, 'libvirt reconnected');
      // Commands wait until the consumers have the fresh snapshot.
      this.publisher
        .snapshot('libvirt-reconnect')
        .catch((err) => log.error({ err }, 'snapshot failed'))
        .finally(() => {
          this.libvirtGate.open();
          this.readinessChanged();
        });
    });
    o.transport.on('connected', (i) => {
      log.info({ ...i, transport: o.transport.kind }, 'bus connected');
      this.busUp = true;
    });
    o.transport.on('disconnected', (i) => {
      log.warn({ ...i, transport: o.transport.kind }, 'bus connection lost');
      this.busUp = false;
      this.busSnapshot = false;
      this.readinessChanged();
    });
    o.transport.on('connect-failed', (err, i) => log.warn({ err: String(err), ...i }, 'bus connect failed'));
    o.transport.on('warning', (msg, detail) => log.warn({ detail }, msg));
    o.transport.on('publish-dropped', (err) => {
      log.error(
        { err: { type: err.name, message: err.message }, dropped: o.transport.publishDropped },
        'message dropped: the broker refused it for good',
      );
      this.emit('publish-failed', 'refused');
    });
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  async start(): Promise<void> {
    const log = this.o.log;
    // the logger carries the node id already (a second `node` key would repeat it in every line)
    log.info(
      {
        libvirt: this.o.libvirtUri,
        ...(this.o.busDescription && { bus: this.o.busDescription }),
        readOnly: !!this.o.readOnly,
        bootId: this.bootId,
        version: AGENT_VERSION,
      },
      'starting',
    );
    await this.libvirt.start();
    let first = true;
    await this.o.transport.start({
      beforeConsume: async () => {
        // online at every (re)connect, not only the first: after a broker
        // restart or a fail-over, peers and watchers learn at once that this
        // run (same bootId) is back, not at the next heartbeat
        await this.publisher.enqueue(this.presence('online'));
        this.online = true;
        await this.publisher.snapshot(first ? 'start' : 'broker-reconnect');
        if (first) await this.jobReplies?.start();
        first = false;
        // consuming starts right after this returns
        this.busUp = true;
        this.busSnapshot = true;
        this.consuming = true;
        queueMicrotask(() => this.readinessChanged());
      },
      onDelivery: (d) => this.intake.accept(d),
    });
    const every = this.o.heartbeatS ?? 30;
    if (every > 0) {
      this.heartbeat = setInterval(() => {
        this.publisher.enqueue(this.presence('heartbeat')).catch(() => undefined);
      }, every * 1000);
      this.heartbeat.unref();
    }
    this.stats?.start();
    log.info('ready: consuming commands');
    this.emit('ready');
  }

  private presence(event: 'online' | 'heartbeat' | 'offline') {
    return {
      object: 'agent' as const,
      id: this.o.nodeId,
      event,
      data: {
        node: this.o.nodeId,
        status: event === 'offline' ? 'offline' : 'online',
        bootId: this.bootId,
        version: AGENT_VERSION,
        libvirtUri: this.o.advertiseUri ?? this.o.libvirtUri,
        transport: this.o.transport.kind,
        at: new Date().toISOString(),
        heartbeatS: this.o.heartbeatS ?? 30,
        ...(this.o.advertiseMigrateUri && { migrateUri: this.o.advertiseMigrateUri }),
      },
    };
  }

  /** Ready: bus connected, libvirt connected, the snapshot after the last reconnect of either out, consuming, not stopping. */
  readiness(): Readiness {
    const libvirt = this.libvirt.connected;
    const snapshot = this.busSnapshot && this.libvirtGate.isOpen;
    const r = { bus: this.busUp, libvirt, snapshot, consuming: this.consuming && !this.closing };
    return { ready: r.bus && r.libvirt && r.snapshot && r.consuming, ...r };
  }

  private readinessChanged(): void {
    const r = this.readiness();
    if (r.ready === this.lastReady) return;
    this.lastReady = r.ready;
    this.emit('readiness', r);
  }

  status(): Record<string, unknown> {
    return {
      node: this.o.nodeId,
      bootId: this.bootId,
      version: AGENT_VERSION,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      readOnly: !!this.o.readOnly,
      libvirt: { uri: this.o.libvirtUri, connected: this.libvirt.connected },
      bus: { kind: this.o.transport.kind, connected: this.busUp, publishDropped: this.o.transport.publishDropped },
      commands: { ...this.dispatcher.counters },
      intake: { ...this.intake.counters },
      events: { published: this.publisher.published },
      ...(this.o.authenticity && { refused: this.o.authenticity.counts() }),
    };
  }

  /** Graceful, ordered, idempotent; step errors are logged, not thrown. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const log = this.o.log;
    // Every wait below is bounded, and all of them together by the drain
    // budget: a broker in flow control or a memory alarm (confirms that never
    // come, a basic.cancel never answered) cannot hold the process past it.
    // The last part of the budget is kept for what follows the commands.
    const budget = this.o.drainMs ?? 30_000;
    const deadline = Date.now() + budget;
    const left = () => Math.max(0, deadline - Date.now());
    const tail = Math.min(this.o.closeTimeoutMs ?? 10_000, Math.floor(budget / 3));
    const closing = Math.min(2000, Math.floor(tail / 4)); // kept for closing libvirt and the transport
    const step = async (name: string, fn: () => Promise<unknown>, ms: number) => {
      try {
        await withTimeout(fn(), Math.max(0, ms), name);
      } catch (err) {
        log.error({ err, step: name }, 'shutdown step failed');
      }
    };
    log.info({ boundMs: budget }, 'stopping: no new commands');
    this.consuming = false;
    this.readinessChanged();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.stats?.stop();
    await step('stop consuming', () => this.o.transport.stopConsuming(), Math.min(5000, left() - tail));
    await step(
      'finish in-flight commands',
      async () => {
        const running = await this.intake.drain(Math.max(0, left() - tail));
        if (running) log.warn({ left: running }, 'commands still running at shutdown; the broker will redeliver them');
      },
      left() - tail + 1000,
    );
    this.dispatcher.stop();
    // running jobs are left to libvirt; the next agent run reconciles them
    if (this.jobs) await step('close the job system', () => this.jobs!.close(), (left() - closing) / 3);
    // With the broker away or blocking, confirms never come; the transport's
    // close below rejects what is still waiting (the broker lost it anyway).
    await step('flush events', () => this.publisher.flush(), (left() - closing) / 2);
    if (this.online) {
      await step('publish offline', () => this.publisher.enqueue(this.presence('offline')), left() - closing);
    }
    await step('close libvirt', () => this.libvirt.close(), left() - closing / 2);
    await step('close transport', () => this.o.transport.close(), Math.max(left(), 100));
    log.info('stopped');
    this.emit('closed');
  }
}
