// Publishes contract events in order. libvirt callbacks only enqueue here;
// a single worker numbers each domain event (seq), re-reads the domain's
// state (an event is a hint, the domain is the truth) and hands the message
// to the transport, which resolves once the broker confirmed it.
import { isLibvirtError, type Connection, type LibvirtEvent } from '../libvirt';
import type { Transport } from '../bus/transport';
import type { MessageCodec } from '../codec/codec';
import { eventType, mapLibvirtEvent, type ContractEvent } from './mapping';
import type { SnapshotData } from '../contract/events';

export interface EventPublisherDeps {
  node: string;
  bootId: string;
  transport: Transport;
  codec: MessageCodec;
  /** current libvirt connection or undefined while reconnecting */
  connection: () => Connection | undefined;
  onError: (err: unknown, e: ContractEvent) => void;
}

type Task = () => Promise<void>;

export class EventPublisher {
  private readonly seqs = new Map<string, number>();
  private readonly queue: Task[] = [];
  private draining?: Promise<void>;
  published = 0;

  constructor(private readonly d: EventPublisherDeps) {}

  /** Called for every libvirt event; never blocks, never throws. */
  enqueueLibvirt(e: LibvirtEvent): void {
    const at = new Date();
    this.push(async () => {
      const ce = mapLibvirtEvent(this.d.node, e, at);
      if (ce.object === 'domain') {
        ce.data.seq = this.nextSeq(ce.id);
        const state = await this.currentState(ce.id);
        if (state) ce.data.state = state;
      }
      await this.send(ce);
    });
  }

  /** Enqueues any contract event (presence, command completion, jobs). */
  enqueue(ce: ContractEvent): Promise<void> {
    return new Promise((resolve, reject) => this.push(() => this.send(ce).then(resolve, reject)));
  }

  /** The whole node; queued behind earlier events so consumers see a consistent order. */
  snapshot(reason: SnapshotData['reason']): Promise<void> {
    return new Promise((resolve, reject) =>
      this.push(async () => {
        try {
          await this.send({
            object: 'agent',
            id: this.d.node,
            event: 'snapshot',
            data: await this.buildSnapshot(reason),
          });
          resolve();
        } catch (e) {
          reject(e);
        }
      }),
    );
  }

  /** Resolves once everything queued so far is published. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  lastSeq(uuid: string): number {
    return this.seqs.get(uuid) ?? 0;
  }

  private nextSeq(uuid: string): number {
    const n = (this.seqs.get(uuid) ?? 0) + 1;
    this.seqs.set(uuid, n);
    return n;
  }

  private async currentState(uuid: string): Promise<string | undefined> {
    const conn = this.d.connection();
    if (!conn) return undefined;
    try {
      return (await (await conn.domain(uuid)).state()).state;
    } catch (e) {
      if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) return undefined;
      return undefined;
    }
  }

  private async buildSnapshot(reason: SnapshotData['reason']): Promise<SnapshotData> {
    const conn = this.d.connection();
    if (!conn) throw new Error('libvirt is not connected: no snapshot');
    const [doms, pools, nets] = await Promise.all([conn.listDomains(), conn.listStoragePools(), conn.listNetworks()]);
    return {
      node: this.d.node,
      bootId: this.d.bootId,
      reason,
      at: new Date().toISOString(),
      domains: await Promise.all(
        doms.map(async (d) => {
          const [s, persistent] = await Promise.all([d.state(), d.isPersistent()]);
          return {
            uuid: d.uuid,
            name: d.name,
            id: d.id,
            state: s.state,
            reason: s.reason,
            persistent,
            seq: this.lastSeq(d.uuid),
          };
        }),
      ),
      pools: await Promise.all(pools.map(async (p) => ({ uuid: p.uuid, name: p.name, state: (await p.info()).state }))),
      networks: await Promise.all(nets.map(async (n) => ({ uuid: n.uuid, name: n.name, active: await n.isActive() }))),
    };
  }

  private async send(ce: ContractEvent): Promise<void> {
    const { body, contentType, id } = this.d.codec.encodeEvent({
      type: eventType(ce),
      source: `virtbus://${this.d.node}`,
      subject: ce.id,
      data: ce.data,
    });
    try {
      await this.d.transport.publishEvent({
        object: ce.object,
        id: ce.id,
        event: ce.event,
        body,
        contentType,
        messageId: id,
      });
      this.published++;
    } catch (err) {
      this.d.onError(err, ce);
      throw err;
    }
  }

  private push(t: Task): void {
    this.queue.push(t);
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      for (let t = this.queue.shift(); t; t = this.queue.shift()) {
        await t().catch(() => undefined); // reported through onError / the caller
      }
    } finally {
      this.draining = undefined;
    }
  }
}
