// Other agents, as their presence events describe them: lets
// `domain.migrate {to: "<node>"}` find the destination's libvirt URI without
// the orchestrator knowing libvirt URIs. Presence comes over its own client
// connection to the same bus; it reconnects with backoff when lost.
import type { CloudEvent } from '../contract/envelope';
import type { PresenceData } from '../contract/events';
import { connectClient, type VirtbusClient } from '../client/client';
import { Backoff, sleep } from '../reconnect/backoff';
import type { Logger } from '../log';

export interface Peer { node: string; libvirtUri: string; migrateUri?: string; status: 'online' | 'offline'; bootId: string; seenAt: number; at?: string }

export interface PeerResolver { resolve(node: string): Peer | undefined }

export class PeerDirectory implements PeerResolver {
  private readonly peers = new Map<string, Peer>();
  private client?: VirtbusClient;
  private readonly stop = new AbortController();
  private running?: Promise<void>;

  constructor(private readonly o: { url: string; protocolVersion?: 4 | 5; self: string; log: Logger }) {}

  /** Starts watching; resolves once the first subscription is in place (or failed once). */
  async start(): Promise<void> {
    let first!: () => void;
    const subscribed = new Promise<void>((r) => { first = r; });
    this.running = this.loop(first);
    await subscribed;
  }

  private async loop(onFirst: () => void): Promise<void> {
    // the shared ceiling (2 s): peers must be known again soon after the broker is back
    const backoff = new Backoff({ initialMs: 500 });
    while (!this.stop.signal.aborted) {
      try {
        this.client = await connectClient({ url: this.o.url, node: this.o.self, protocolVersion: this.o.protocolVersion, source: `virtbus://${this.o.self}` });
        await this.client.watchPresence((e) => this.seen(e));
        // ask everyone now rather than wait for their next heartbeat
        await this.client.broadcast('agent.ping', {}, (reply) => this.pinged(reply));
        backoff.reset();
        onFirst();
        await Promise.race([this.client.lost, new Promise((r) => this.stop.signal.addEventListener('abort', r, { once: true }))]);
      } catch (err) {
        this.o.log.warn({ err: String(err) }, 'presence watch failed');
        onFirst();
      }
      await this.client?.close().catch(() => undefined);
      if (!this.stop.signal.aborted) await sleep(backoff.next(), this.stop.signal).catch(() => undefined);
    }
  }

  private seen(e: CloudEvent): void {
    const d = e.data as PresenceData | undefined;
    if (!d?.node || !d.libvirtUri) return;
    const known = this.peers.get(d.node);
    // the retained status can be older than a presence event seen already
    if (known && d.at && known.at && d.at < known.at) return;
    this.peers.set(d.node, { node: d.node, libvirtUri: d.libvirtUri, ...(d.migrateUri && { migrateUri: d.migrateUri }), status: d.status, bootId: d.bootId, seenAt: Date.now(), ...(d.at && { at: d.at }) });
  }

  private pinged(reply: CloudEvent): void {
    const r = reply.data as { ok?: boolean; result?: { node?: string; libvirtUri?: string; migrateUri?: string; bootId?: string } } | undefined;
    const p = r?.ok ? r.result : undefined;
    if (!p?.node || !p.libvirtUri || p.node === this.o.self) return;
    this.peers.set(p.node, { node: p.node, libvirtUri: p.libvirtUri, ...(p.migrateUri && { migrateUri: p.migrateUri }), status: 'online', bootId: p.bootId ?? '', seenAt: Date.now(), at: new Date().toISOString() });
  }

  resolve(node: string): Peer | undefined { return this.peers.get(node); }

  list(): Peer[] { return [...this.peers.values()]; }

  async close(): Promise<void> {
    this.stop.abort();
    await this.client?.close().catch(() => undefined);
    await this.running;
  }
}
