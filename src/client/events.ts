// events(): a node's (or the fleet's) events as an async iterator. Events
// are de-duplicated by CloudEvent id (the agent publishes at least once);
// per-domain `seq` is checked against what came before in the same agent run
// (the run is its bootId, learnt from its online and snapshot events; a
// snapshot also sets every domain's starting point), and a jump is reported
// on the event that shows it — `gap` — so the caller knows to re-read. A new
// bootId is reported as `restarted`. The iterator ends on the signal's abort
// or on return(); events wait in memory meanwhile (bounded: the oldest are
// dropped past `maxQueued`, and the next event says how many: `dropped`).
import type { CloudEvent } from '../contract/envelope';
import type { EventHub } from './event-hub';

/** What events are about (the address's object part). */
export type EventObject = 'domain' | 'pool' | 'network' | 'agent' | 'job' | 'command';

export interface EventFilter {
  /** a node id, or '*' for every node (default: the connection's node) */
  node?: string;
  /** domain, pool, network, agent, job, command */
  object?: EventObject;
  /** the event's name in its type (lifecycle, stats, online, …) or its data.event (started, stopped, …) */
  event?: string;
  /** a domain's name or UUID */
  domain?: string;
  signal?: AbortSignal;
  /** events kept while the caller is not reading (default 10000) */
  maxQueued?: number;
}

export interface VirtbusEvent {
  /** CloudEvent type, e.g. virtbus.event.domain.lifecycle */
  type: string;
  node: string;
  /** domain, pool, network, agent, job, command */
  object: string;
  /** the last part of the type: lifecycle, online, progress, … */
  name: string;
  /** CloudEvent subject: the object's id (UUID, node id, command id) */
  subject?: string;
  time?: string;
  data: Record<string, unknown>;
  /** the whole CloudEvent as received */
  cloudEvent: CloudEvent;
  /** events of this domain that were missed before this one (seq jumped); re-read its state */
  gap?: { domain: string; expected: number; got: number };
  /** the node's agent started anew (a new bootId): seq begins again */
  restarted?: { node: string; bootId: string };
  /** events dropped just before this one because the caller did not read them in time (maxQueued) */
  dropped?: number;
}

const TYPE = /^virtbus\.event\.([a-z]+)\.(.+)$/;

/** seq bookkeeping of one node: its run and each domain's last seq */
class NodeSeqs {
  bootId?: string;
  readonly last = new Map<string, number>();
}

export function parseEvent(e: CloudEvent): Omit<VirtbusEvent, 'gap' | 'restarted' | 'dropped'> | undefined {
  const m = TYPE.exec(e.type);
  if (!m) return undefined;
  return {
    type: e.type,
    node: e.source.replace(/^virtbus:\/\//, ''),
    object: m[1],
    name: m[2],
    ...(e.subject !== undefined && { subject: e.subject }),
    ...(e.time !== undefined && { time: e.time }),
    data: (e.data ?? {}) as Record<string, unknown>,
    cloudEvent: e,
  };
}

export function matches(ev: VirtbusEvent, f: EventFilter): boolean {
  if (f.object !== undefined && ev.object !== f.object) return false;
  if (f.event !== undefined && ev.name !== f.event && ev.data.event !== f.event) return false;
  if (f.domain !== undefined) {
    const d = ev.data.domain as { name?: string; uuid?: string } | undefined;
    if (!d || (d.name !== f.domain && d.uuid !== f.domain)) return false;
  }
  return true;
}

/** The seq checks of a stream of events (de-duplicated already), node by node. */
export class SeqTracker {
  private readonly nodes = new Map<string, NodeSeqs>();

  /** What the event says about the stream: a gap before it, a restart of its agent. */
  observe(ev: VirtbusEvent): Pick<VirtbusEvent, 'gap' | 'restarted'> {
    let n = this.nodes.get(ev.node);
    if (!n) this.nodes.set(ev.node, (n = new NodeSeqs()));
    const out: Pick<VirtbusEvent, 'gap' | 'restarted'> = {};
    const bootId = typeof ev.data.bootId === 'string' ? ev.data.bootId : undefined;
    if (ev.object === 'agent' && bootId !== undefined && bootId !== n.bootId) {
      if (n.bootId !== undefined) out.restarted = { node: ev.node, bootId };
      n.bootId = bootId;
      n.last.clear();
    }
    if (ev.object === 'agent' && ev.name === 'snapshot' && Array.isArray(ev.data.domains)) {
      for (const d of ev.data.domains as Array<{ uuid?: string; seq?: number }>) {
        if (typeof d.uuid === 'string' && typeof d.seq === 'number') n.last.set(d.uuid, d.seq);
      }
    }
    const seq = ev.data.seq;
    const domain = (ev.data.domain as { uuid?: string } | undefined)?.uuid;
    if (ev.object === 'domain' && typeof seq === 'number' && typeof domain === 'string') {
      const last = n.last.get(domain);
      if (last !== undefined && seq > last + 1) out.gap = { domain, expected: last + 1, got: seq };
      if (last === undefined || seq > last) n.last.set(domain, seq);
    }
    return out;
  }
}

/** De-duplication by CloudEvent id over the last `size` ids. */
export class SeenIds {
  private readonly ids = new Set<string>();
  constructor(private readonly size = 10_000) {}
  /** true the first time an id is seen */
  first(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.size) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}

/** The iterator events() returns: it listens from the moment it is made; `ready` resolves once the broker delivers. */
export interface EventStream extends AsyncIterableIterator<VirtbusEvent> {
  readonly ready: Promise<void>;
}

export function eventStream(hub: EventHub, node: string, f: EventFilter): EventStream {
  const queue: VirtbusEvent[] = [];
  const seen = new SeenIds();
  const seqs = new SeqTracker();
  const max = f.maxQueued ?? 10_000;
  let wake: (() => void) | undefined;
  let dropped = 0;
  const listening = hub.listen(node, (ce) => {
    if (!seen.first(ce.id)) return;
    const parsed = parseEvent(ce);
    if (!parsed) return;
    const ev: VirtbusEvent = { ...parsed };
    Object.assign(ev, seqs.observe(ev));
    if (!matches(ev, f)) return;
    queue.push(ev);
    if (queue.length > max) {
      queue.shift();
      dropped++;
    }
    wake?.();
  });
  const stopListening = () =>
    listening.then(
      (stop) => stop(),
      () => undefined,
    );
  const aborted = new Promise<void>((resolve) => {
    if (f.signal?.aborted) resolve();
    f.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  void aborted.then(stopListening);
  async function* read(): AsyncGenerator<VirtbusEvent> {
    await listening;
    try {
      for (;;) {
        if (f.signal?.aborted) return;
        const ev = queue.shift();
        if (ev) {
          if (dropped > 0) {
            ev.dropped = dropped;
            dropped = 0;
          }
          yield ev;
          continue;
        }
        await Promise.race([new Promise<void>((r) => (wake = r)), aborted]);
        wake = undefined;
      }
    } finally {
      await stopListening();
    }
  }
  const it = read() as AsyncGenerator<VirtbusEvent> & { ready: Promise<void> };
  it.ready = listening.then(() => undefined);
  return it;
}
