// Other agents, for `domain.migrate {to: "<node>"}`: the destination's
// libvirt URI (and data channel) as that node last announced them. Asked of
// the broker for that one node when a migration needs it — the retained MQTT
// status, the node's latest record in the AMQP presence log — over
// the agent's own connection. No second connection, no broadcast at start,
// no subscription to the whole fleet's presence: O(1) per agent at start
// and at idle, and nothing a least-privilege broker configuration forbids
// (deploy/). Why not keep a directory fed by presence events: every agent
// would receive every other agent's heartbeats (N² deliveries) to answer a
// question asked only by migrations.
import type { Transport } from '../bus/transport';
import { CE_JSON, CE_PROTOBUF } from '../contract/envelope';
import { codecFor, mediaType } from '../codec/codec';
import type { PeerResolver } from '../jobs/kinds';
import type { Logger } from '../log';
import { presenceInfo } from './presence-info';

export interface Peer {
  node: string;
  libvirtUri?: string;
  migrateUri?: string;
  status: 'online' | 'offline';
  bootId?: string;
  at?: string;
}

/** how long a lookup waits for the broker's answer */
const LOOKUP_MS = 3000;

export class PeerDirectory implements PeerResolver {
  constructor(private readonly o: { transport: Transport; self: string; log: Logger; lookupMs?: number }) {}

  async resolve(node: string): Promise<Peer | undefined> {
    if (node === this.o.self) return undefined;
    const r = await this.o.transport.lookupPresence(node, this.o.lookupMs ?? LOOKUP_MS);
    if (!r) return undefined;
    try {
      const type = mediaType(r.contentType ?? '');
      // AMQP: the presence event as published (a CloudEvent); MQTT: the retained status (plain JSON)
      const data =
        type === CE_JSON || type === CE_PROTOBUF
          ? codecFor(r.contentType)!.decode(r.body).data
          : (JSON.parse(r.body.toString('utf8')) as unknown);
      return presenceInfo(data, node);
    } catch (err) {
      this.o.log.warn({ err: String(err), node }, 'presence of a peer is not readable');
      return undefined;
    }
  }
}
