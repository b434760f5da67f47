// The per-node agent: libvirt events out, commands in, over one transport.
// Start: libvirt (events subscribed) → transport connects, declares topology,
// publishes online + snapshot → consumes. Close runs in order: stop consuming
// → finish in-flight commands → flush events → offline → libvirt → transport.
import { randomUUID } from 'node:crypto';
import type { Transport } from '../bus/transport';
import { jsonCodec, type MessageCodec } from '../codec/codec';
import { CommandDispatcher, type DispatcherOptions } from '../commands/dispatcher';
import { EventPublisher } from '../events/publisher';
import { ReconnectingConnection, type Connection } from '../libvirt';
import type { Logger } from '../log';
import { COMMAND_PREFIX } from '../contract/envelope';
import { TypedEmitter } from '../typed-emitter';
import { Gate } from './gate';
import { CommandIntake } from './intake';
import type { ReplyAddress } from './reply-address';
import type { PeerDirectory } from './peers';
import { createJobBackend, type JobBackend, type JobBackendConfig, type JobRecord } from '../jobs';
import { jobRunners, kindConcurrency } from '../jobs/kinds';
import { JobWaiters } from './job-waiters';
import type { ReplyData } from '../contract/events';
import { AGENT_VERSION } from './version';

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
  /** how long close() waits for in-flight commands (ms, default 30000) */
  drainMs?: number;
  dispatcher?: DispatcherOptions;
  /** the job system for long-running commands (default: none, they are UNSUPPORTED) */
  jobs?: AgentJobOptions;
  /** other agents by node id, for domain.migrate {to} */
  peers?: PeerDirectory;
  /** hypervisor data channel peers migrate to, announced in presence */
  advertiseMigrateUri?: string;
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
};

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
      onError: (err, e) => log.error({ err, event: `${e.object}.${e.event}` }, 'event not published'),
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
        peers: o.peers,
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
    });

    this.libvirt.on('event', (e) => this.publisher.enqueueLibvirt(e));
    this.libvirt.on('connect-failed', (err, i) =>
      log.warn({ err: String(err), ...i, uri: o.libvirtUri }, 'libvirt connect failed'),
    );
    this.libvirt.on('disconnected', (i) => {
      log.warn({ ...i, uri: o.libvirtUri }, 'libvirt connection lost');
      this.libvirtGate.close();
    });
    this.libvirt.on('reconnected', (_c, i) => {
      log.info({ ...i, uri: o.libvirtUri }, 'libvirt reconnected');
      // Commands wait until the consumers have the fresh snapshot.
      this.publisher
        .snapshot('libvirt-reconnect')
        .catch((err) => log.error({ err }, 'snapshot failed'))
        .finally(() => this.libvirtGate.open());
    });
    this.jobs?.on('started', (id) => {
      void this.jobEvent(id, 'started');
    });
    this.jobs?.on('progress', (id, progress) => {
      void this.jobEvent(id, 'progress', progress);
    });
    this.jobs?.on('completed', (id, reply, record) => {
      void this.jobCompleted(id, reply, record);
    });
    this.jobs?.on('warning', (w) => log.warn({ code: w.code }, w.message));
    this.jobs?.on('error', (err) => log.error({ err }, 'job system error'));
    this.jobs?.on('store-disconnected', (role, i) => log.warn({ role, ...i }, 'job store connection lost'));
    this.jobs?.on('store-connected', (role, i) => {
      if (i.reconnect) log.info({ role, ...i }, 'job store reconnected');
    });
    o.transport.on('connected', (i) => log.info({ ...i, transport: o.transport.kind }, 'bus connected'));
    o.transport.on('disconnected', (i) => log.warn({ ...i, transport: o.transport.kind }, 'bus connection lost'));
    o.transport.on('connect-failed', (err, i) => log.warn({ err: String(err), ...i }, 'bus connect failed'));
    o.transport.on('warning', (msg, detail) => log.warn({ detail }, msg));
    o.transport.on('publish-dropped', (err) =>
      log.error(
        { err: { type: err.name, message: err.message }, dropped: o.transport.publishDropped },
        'message dropped: the broker refused it for good',
      ),
    );
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  async start(): Promise<void> {
    const log = this.o.log;
    // the logger carries the node id already (a second `node` key would repeat it in every line)
    log.info(
      { libvirt: this.o.libvirtUri, readOnly: !!this.o.readOnly, bootId: this.bootId, version: AGENT_VERSION },
      'starting',
    );
    await this.libvirt.start();
    let first = true;
    await this.o.transport.start({
      beforeConsume: async () => {
        if (!this.online) {
          await this.publisher.enqueue(this.presence('online'));
          this.online = true;
        }
        await this.publisher.snapshot(first ? 'start' : 'broker-reconnect');
        if (first && this.jobs) {
          // restart safety: decide what the last run left running, then answer what it never answered
          const report = await this.jobs.start();
          log.info(report, 'jobs reconciled');
          for (const r of await this.jobs.unreplied()) if (r.reply) await this.jobCompleted(r.id, r.reply, r);
        }
        first = false;
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
    await this.o.peers?.start();
    log.info('ready: consuming commands');
    this.emit('ready');
  }

  private async jobEvent(id: string, event: 'started' | 'progress' | 'completed', progress?: unknown): Promise<void> {
    const r = await this.jobs?.get(id).catch(() => undefined);
    await this.publisher
      .enqueue({
        object: 'job',
        id,
        event,
        data: {
          node: this.o.nodeId,
          id,
          command: `${COMMAND_PREFIX}${r?.command ?? 'unknown'}`,
          state: r?.state ?? 'running',
          ...(progress !== undefined && { progress }),
          at: new Date().toISOString(),
        },
      })
      .catch(() => undefined);
  }

  /** A job ended: its event, then its one reply to the original caller, then mark it answered. */
  private async jobCompleted(id: string, reply: ReplyData, record: JobRecord): Promise<void> {
    try {
      await this.publisher.enqueue({
        object: 'job',
        id,
        event: 'completed',
        data: {
          node: this.o.nodeId,
          id,
          command: `${COMMAND_PREFIX}${record.command}`,
          state: record.state,
          ...(record.progress !== undefined && { progress: record.progress }),
          at: new Date().toISOString(),
        },
      });
      const address = (record.meta as { reply?: ReplyAddress } | undefined)?.reply;
      if (address) await this.intake.replyLater(address, reply);
      // callers that sent the same command id while it ran (best effort: the first caller's reply decides markReplied)
      for (const to of this.waiters?.take(id) ?? []) {
        this.intake
          .replyLater(to, reply)
          .catch((err) => this.o.log.warn({ err, id }, 'job reply to a duplicate caller not delivered'));
      }
      await this.jobs!.markReplied(id);
      this.o.log.info({ id, command: record.command, ok: reply.ok }, 'job replied');
    } catch (err) {
      this.o.log.error({ err, id }, 'job reply not delivered; retried at the next start');
    }
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

  status(): Record<string, unknown> {
    return {
      node: this.o.nodeId,
      bootId: this.bootId,
      version: AGENT_VERSION,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      readOnly: !!this.o.readOnly,
      libvirt: { uri: this.o.libvirtUri, connected: this.libvirt.connected },
      bus: { kind: this.o.transport.kind, connected: true, publishDropped: this.o.transport.publishDropped },
      commands: { ...this.dispatcher.counters },
      intake: { ...this.intake.counters },
      events: { published: this.publisher.published },
    };
  }

  /** Graceful, ordered, idempotent; step errors are logged, not thrown. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const log = this.o.log;
    const step = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        log.error({ err, step: name }, 'shutdown step failed');
      }
    };
    log.info('stopping: no new commands');
    if (this.heartbeat) clearInterval(this.heartbeat);
    await step('stop consuming', () => this.o.transport.stopConsuming());
    await step('finish in-flight commands', async () => {
      const left = await this.intake.drain(this.o.drainMs ?? 30_000);
      if (left) log.warn({ left }, 'commands still running at shutdown; the broker will redeliver them');
      this.dispatcher.stop();
    });
    // running jobs are left to libvirt; the next agent run reconciles them
    if (this.jobs) await step('close the job system', () => this.jobs!.close());
    await step('flush events', () => this.publisher.flush());
    if (this.online) await step('publish offline', () => this.publisher.enqueue(this.presence('offline')));
    if (this.o.peers) await step('stop watching peers', () => this.o.peers!.close());
    await step('close libvirt', () => this.libvirt.close());
    await step('close transport', () => this.o.transport.close());
    log.info('stopped');
    this.emit('closed');
  }
}
