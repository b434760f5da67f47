// Other agents, as their presence events describe them: lets
// `domain.migrate {to: "<node>"}` find the destination's libvirt URI without
// the orchestrator knowing libvirt URIs. Presence comes over its own client
// connection to the same bus, kept by the recovery core.
import type { CloudEvent } from '../contract/envelope';
import type { PresenceData } from '../contract/events';
import { connectClient, type VirtbusClient } from '../client/client';
import { Recovering, type Session } from '../reconnect/recovering';
import type { Logger } from '../log';
import type { EndpointInput } from '../endpoint';

export interface Peer {
  node: string;
  libvirtUri: string;
  migrateUri?: string;
  status: 'online' | 'offline';
  bootId: string;
  seenAt: number;
  at?: string;
}

export interface PeerResolver {
  resolve(node: string): Peer | undefined;
}

/** One bus client watching presence, as a recovery session. */
class PresenceSession implements Session {
  readonly lost: Promise<string>;
  constructor(readonly client: VirtbusClient) {
    this.lost = client.lost.then(() => 'bus connection lost');
  }
  close(): Promise<void> {
    return this.client.close().catch(() => undefined);
  }
  abandon(): Promise<void> {
    return this.close();
  }
}

export class PeerDirectory implements PeerResolver {
  private readonly peers = new Map<string, Peer>();
  private readonly recovery: Recovering<PresenceSession>;

  constructor(private readonly o: { endpoint: EndpointInput; protocolVersion?: 4 | 5; self: string; log: Logger }) {
    this.recovery = new Recovering<PresenceSession>({
      name: 'presence',
      // the shared ceiling (2 s): peers must be known again soon after the broker is back
      backoff: { initialMs: 500 },
      open: async () =>
        new PresenceSession(
          await connectClient({
            endpoint: o.endpoint,
            node: o.self,
            protocolVersion: o.protocolVersion,
            source: `virtbus://${o.self}`,
          }),
        ),
      setup: async ({ client }, ctx) => {
        await ctx.step(
          client.watchPresence((e) => this.seen(e)),
          'presence subscription',
        );
        // ask everyone now rather than wait for their next heartbeat
        await ctx.step(
          client.broadcast('agent.ping', {}, (reply) => this.pinged(reply)),
          'agent.ping',
        );
      },
    });
    this.recovery.on('connect-failed', (err) => this.o.log.warn({ err: String(err) }, 'presence watch failed'));
    this.recovery.on('disconnected', ({ reason }) => this.o.log.warn({ reason }, 'presence watch lost; reconnecting'));
  }

  /** Starts watching; resolves once the first subscription is in place (or failed once). */
  async start(): Promise<void> {
    const first = new Promise<void>((resolve) => {
      this.recovery.once('connected', () => resolve());
      this.recovery.once('connect-failed', () => resolve());
    });
    this.recovery.start().catch(() => undefined); // rejects only on close()
    await first;
  }

  private seen(e: CloudEvent): void {
    const d = e.data as PresenceData | undefined;
    if (!d?.node || !d.libvirtUri) return;
    const known = this.peers.get(d.node);
    // the retained status can be older than a presence event seen already
    if (known && d.at && known.at && d.at < known.at) return;
    this.peers.set(d.node, {
      node: d.node,
      libvirtUri: d.libvirtUri,
      ...(d.migrateUri && { migrateUri: d.migrateUri }),
      status: d.status,
      bootId: d.bootId,
      seenAt: Date.now(),
      ...(d.at && { at: d.at }),
    });
  }

  private pinged(reply: CloudEvent): void {
    const r = reply.data as
      | { ok?: boolean; result?: { node?: string; libvirtUri?: string; migrateUri?: string; bootId?: string } }
      | undefined;
    const p = r?.ok ? r.result : undefined;
    if (!p?.node || !p.libvirtUri || p.node === this.o.self) return;
    this.peers.set(p.node, {
      node: p.node,
      libvirtUri: p.libvirtUri,
      ...(p.migrateUri && { migrateUri: p.migrateUri }),
      status: 'online',
      bootId: p.bootId ?? '',
      seenAt: Date.now(),
      at: new Date().toISOString(),
    });
  }

  resolve(node: string): Peer | undefined {
    return this.peers.get(node);
  }

  list(): Peer[] {
    return [...this.peers.values()];
  }

  close(): Promise<void> {
    return this.recovery.close();
  }
}
