// Publishes contract events in order, many at a time. libvirt callbacks only
// enqueue here. Each domain event is numbered (seq) when it arrives and
// carries its domain's state: the one the event says (started, resumed,
// suspended, stopped, pmsuspended: mapping.ts), else the state re-read after
// it arrived (reads are batched, state-reads.ts). Events are handed to the transport in
// arrival order without waiting for each broker confirm — the transport keeps
// that order on the wire and its confirm window bounds what is in flight — so
// per-domain order and seq hold while a node starting hundreds of guests does
// not fall behind. At most maxUnconfirmed events are handed over and not yet
// confirmed; beyond that the queue waits for confirms (no publish is refused
// for lack of room in the transport's queue).
import { listDomainStates, type Connection, type DomainListEntry, type LibvirtEvent } from '../libvirt';
import type { Transport } from '../bus/transport';
import type { MessageCodec } from '../codec/codec';
import { eventType, mapLibvirtEvent, type ContractEvent } from './mapping';
import { StateReads } from './state-reads';
import { traceAttributes } from '../ops/trace';
import type { SnapshotData } from '../contract/events';

export interface EventPublisherDeps {
  node: string;
  bootId: string;
  transport: Transport;
  codec: MessageCodec;
  /** current libvirt connection or undefined while reconnecting */
  connection: () => Connection | undefined;
  onError: (err: unknown, e: ContractEvent | { object: string; event: string }) => void;
  /** how a domain's state is read (default: libvirt, lookup and state in one hop) */
  readDomainState?: (conn: Connection, uuid: string) => Promise<{ state: string }>;
  /** how the snapshot lists the domains with their states (default: libvirt, one hop for all) */
  listDomains?: (conn: Connection) => Promise<DomainListEntry[]>;
  /** a domain's state could not be read for an event (it goes out without); default: ignored */
  onStateUnreadable?: (err: unknown, uuid: string) => void;
  /** an event was confirmed by the broker (metrics) */
  onPublished?: (e: { object: string; event: string }) => void;
  /** events handed to the transport and not yet confirmed, at most (default 1024) */
  maxUnconfirmed?: number;
}

/** One queued event: ready resolves (never rejects) once it can be handed over. */
interface Queued {
  ready: Promise<{ ce: ContractEvent } | { err: unknown; what: { object: string; event: string } }>;
  /** the enqueuer's promise, settled by the broker's confirm */
  settle?: { resolve: () => void; reject: (err: unknown) => void };
}

export class EventPublisher {
  private readonly seqs = new Map<string, number>();
  private readonly queue: Queued[] = [];
  private readonly unconfirmed = new Set<Promise<void>>();
  private readonly maxUnconfirmed: number;
  private readonly states: StateReads;
  private pumping?: Promise<void>;
  published = 0;

  constructor(private readonly d: EventPublisherDeps) {
    this.maxUnconfirmed = d.maxUnconfirmed ?? 1024;
    this.states = new StateReads(d.connection, d.readDomainState, d.onStateUnreadable);
  }

  /** Called for every libvirt event; never blocks, never throws. */
  enqueueLibvirt(e: LibvirtEvent): void {
    let ce: ContractEvent;
    try {
      ce = mapLibvirtEvent(this.d.node, e, new Date());
    } catch (err) {
      this.d.onError(err, { object: 'libvirt', event: String((e as { type?: unknown }).type) });
      return;
    }
    if (ce.object !== 'domain') {
      this.push({ ready: Promise.resolve({ ce }) });
      return;
    }
    ce.data.seq = this.nextSeq(ce.id);
    if (ce.data.state !== undefined) {
      // the event says the state it left the domain in (mapping.ts): no read
      this.push({ ready: Promise.resolve({ ce }) });
      return;
    }
    const ready = this.states.read(ce.id).then((state) => {
      if (state) ce.data.state = state;
      return { ce };
    });
    this.push({ ready });
  }

  /** Enqueues any contract event (presence, command completion, jobs); resolves once the broker confirmed it. */
  enqueue(ce: ContractEvent): Promise<void> {
    return new Promise((resolve, reject) => this.push({ ready: Promise.resolve({ ce }), settle: { resolve, reject } }));
  }

  /**
   * The whole node, in order with the events: its seq per domain is the last
   * one numbered before it, and the events numbered after it come after it.
   */
  snapshot(reason: SnapshotData['reason']): Promise<void> {
    const seqs = new Map(this.seqs);
    const what = { object: 'agent', event: 'snapshot' };
    return new Promise((resolve, reject) =>
      this.push({
        ready: this.buildSnapshot(reason, seqs).then(
          (data) => ({ ce: { object: 'agent' as const, id: this.d.node, event: 'snapshot', data } }),
          (err: unknown) => ({ err, what }),
        ),
        settle: { resolve, reject },
      }),
    );
  }

  /** Resolves once everything queued so far is published and confirmed (or failed). */
  async flush(): Promise<void> {
    while (this.pumping || this.unconfirmed.size) {
      await this.pumping;
      await Promise.allSettled([...this.unconfirmed]);
    }
  }

  lastSeq(uuid: string): number {
    return this.seqs.get(uuid) ?? 0;
  }

  /** handed to the transport, confirm pending */
  get inFlight(): number {
    return this.unconfirmed.size;
  }

  /** waiting for their state read or for room among the unconfirmed */
  get queued(): number {
    return this.queue.length;
  }

  private nextSeq(uuid: string): number {
    const n = (this.seqs.get(uuid) ?? 0) + 1;
    this.seqs.set(uuid, n);
    return n;
  }

  private async buildSnapshot(reason: SnapshotData['reason'], seqs: Map<string, number>): Promise<SnapshotData> {
    const conn = this.d.connection();
    if (!conn) throw new Error('libvirt is not connected: no snapshot');
    // domains in one hop with their states (gone ones left out)
    const [doms, pools, nets] = await Promise.all([
      (this.d.listDomains ?? listDomainStates)(conn),
      conn.listStoragePools(),
      conn.listNetworks(),
    ]);
    return {
      node: this.d.node,
      bootId: this.d.bootId,
      reason,
      at: new Date().toISOString(),
      domains: doms.map((d) => ({
        uuid: d.uuid,
        name: d.name,
        id: d.id,
        state: d.state,
        reason: d.reason,
        persistent: d.persistent,
        seq: seqs.get(d.uuid) ?? 0,
      })),
      pools: await Promise.all(pools.map(async (p) => ({ uuid: p.uuid, name: p.name, state: (await p.info()).state }))),
      networks: await Promise.all(nets.map(async (n) => ({ uuid: n.uuid, name: n.name, active: await n.isActive() }))),
    };
  }

  private push(q: Queued): void {
    this.queue.push(q);
    if (!this.pumping) this.startPump();
  }

  private startPump(): void {
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      // pushed after the loop saw an empty queue, before this ran
      if (this.queue.length > 0) this.startPump();
    });
  }

  /** Hands queued events to the transport in order, each once it is ready and there is room. */
  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const q = this.queue[0];
      const r = await q.ready;
      while (this.unconfirmed.size >= this.maxUnconfirmed) await Promise.race(this.unconfirmed);
      this.queue.shift();
      if ('err' in r) {
        // a caller waits for it (the snapshot): theirs to report
        if (q.settle) q.settle.reject(r.err);
        else this.d.onError(r.err, r.what);
        continue;
      }
      this.hand(r.ce, q.settle);
    }
  }

  /** Encodes and publishes one event; its confirm settles the enqueuer's promise. */
  private hand(ce: ContractEvent, settle: Queued['settle']): void {
    let confirmed: Promise<void>;
    try {
      const { body, contentType, id, envelope } = this.d.codec.encodeEvent({
        type: eventType(ce),
        source: `virtbus://${this.d.node}`,
        subject: ce.id,
        data: ce.data,
        ...(ce.trace && { extra: traceAttributes(ce.trace) }),
      });
      confirmed = this.d.transport.publishEvent({
        object: ce.object,
        id: ce.id,
        event: ce.event,
        body,
        contentType,
        envelope,
        messageId: id,
      });
    } catch (err) {
      confirmed = Promise.reject(err);
    }
    const tracked: Promise<void> = confirmed.then(
      () => {
        this.published++;
        this.d.onPublished?.(ce);
        settle?.resolve();
      },
      (err: unknown) => {
        this.d.onError(err, ce);
        settle?.reject(err);
      },
    );
    this.unconfirmed.add(tracked);
    void tracked.finally(() => this.unconfirmed.delete(tracked));
  }
}
