// Fleet-wide calls (scatter-gather) and the fleet's list, on any client.
// Whom to expect comes from the presence the broker keeps (client.presence():
// the AMQP presence log or MQTT's retained statuses), never from who happens
// to answer: a node that should answer and does not is reported as such.
import type { CloudEvent } from '../contract/envelope';
import type { CommandName } from '../contract/commands';
import type { ReplyData } from '../contract/events';
import { TimeoutError } from '../timeout';
import type { PresenceOptions, PresenceSeen, VirtbusClient } from './types';

export type NodeStatus = 'online' | 'offline' | 'lost';

/** One agent of the fleet, from its latest presence. */
export interface FleetNode {
  node: string;
  /** 'lost': no heartbeat for 2.5 of its heartbeat intervals (AMQP), or online without one (it never sends them) */
  status: NodeStatus;
  bootId?: string;
  version?: string;
  libvirtUri?: string;
  transport?: string;
  /** when its latest presence was published (ISO 8601) */
  lastSeen: string;
  heartbeatS?: number;
}

type ErrorBody = Extract<ReplyData, { ok: false }>['error'];

/** What one node did with a fleet call. */
export type NodeOutcome =
  | { node: string; outcome: 'ok'; result: unknown; ms: number }
  | { node: string; outcome: 'error'; error: ErrorBody; ms: number }
  | { node: string; outcome: 'no-reply' };

export interface FleetCallOptions {
  /** these nodes, each through its own queue (default: the whole fleet) */
  nodes?: string[];
  /** the whole fleet: one broadcast, every online (or lost) node expected to answer */
  all?: boolean;
  /** how long to wait for the replies (ms, default 10000) */
  timeoutMs?: number;
  /** how the fleet is read (all) */
  presence?: PresenceOptions;
}

/** How many heartbeat intervals may pass before an agent counts as lost. */
const LOST_AFTER_BEATS = 2.5;

export function fleetNode(p: PresenceSeen, now = Date.now()): FleetNode {
  const d = p.data;
  const str = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  const heartbeatS = typeof d.heartbeatS === 'number' ? d.heartbeatS : undefined;
  let status: NodeStatus = d.status === 'offline' ? 'offline' : 'online';
  if (
    status === 'online' &&
    p.liveness === 'heartbeats' &&
    heartbeatS !== undefined &&
    heartbeatS > 0 &&
    now - p.at > LOST_AFTER_BEATS * heartbeatS * 1000
  )
    status = 'lost';
  return {
    node: p.node,
    status,
    bootId: str('bootId'),
    version: str('version'),
    libvirtUri: str('libvirtUri'),
    transport: str('transport'),
    lastSeen: new Date(p.at).toISOString(),
    heartbeatS,
  };
}

/** The fleet, sorted by node id. */
export async function listNodes(client: VirtbusClient, o?: PresenceOptions): Promise<FleetNode[]> {
  const now = Date.now();
  return (await client.presence(o)).map((p) => fleetNode(p, now)).sort((a, b) => a.node.localeCompare(b.node));
}

function outcomeOf(node: string, reply: ReplyData, ms: number): NodeOutcome {
  return reply.ok
    ? { node, outcome: 'ok', result: reply.result, ms }
    : { node, outcome: 'error', error: reply.error, ms };
}

/** The node a reply came from: its source, virtbus://<node>. */
function replier(e: CloudEvent): string | undefined {
  const m = /^virtbus:\/\/([^/]+)$/.exec(String(e.source ?? ''));
  return m?.[1];
}

/**
 * One command to many nodes; one outcome per node, sorted by node id. With
 * `nodes`, each gets the command through its own queue. With `all`, one
 * broadcast: every node the presence says is online (or lost: it may still
 * answer) is expected, and the call ends when all of them answered or at
 * timeoutMs; a node that answers without being expected is listed too.
 */
export async function fleetCall(
  client: VirtbusClient,
  command: CommandName | string,
  data: unknown,
  o: FleetCallOptions,
): Promise<NodeOutcome[]> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const t0 = Date.now();
  const sorted = (r: NodeOutcome[]) => r.sort((a, b) => a.node.localeCompare(b.node));
  if (o.nodes && !o.all) {
    const nodes = [...new Set(o.nodes)];
    return sorted(
      await Promise.all(
        nodes.map((node) =>
          client.call(command, data, { node, timeoutMs }).then(
            (reply): NodeOutcome => outcomeOf(node, reply, Date.now() - t0),
            (err): NodeOutcome => {
              if (err instanceof TimeoutError) return { node, outcome: 'no-reply' };
              throw err;
            },
          ),
        ),
      ),
    );
  }
  const expected = new Set(
    (await listNodes(client, o.presence)).filter((n) => n.status !== 'offline').map((n) => n.node),
  );
  const got = new Map<string, NodeOutcome>();
  let allIn!: () => void;
  const complete = new Promise<void>((resolve) => {
    allIn = resolve;
  });
  const t1 = Date.now();
  const stop = await client.broadcast(command, data, (e) => {
    const node = replier(e);
    if (!node || got.has(node)) return;
    got.set(node, outcomeOf(node, e.data as ReplyData, Date.now() - t1));
    if ([...expected].every((n) => got.has(n))) allIn();
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    complete,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, timeoutMs - (t1 - t0)));
    }),
  ]);
  clearTimeout(timer);
  stop(); // later replies are dropped, not kept for ever
  for (const node of expected) if (!got.has(node)) got.set(node, { node, outcome: 'no-reply' });
  return sorted([...got.values()]);
}

/** `fleet(client).call(…)`, `fleet(client).nodes()`. */
export function fleet(client: VirtbusClient) {
  return {
    call: (command: CommandName | string, data: unknown, o: FleetCallOptions = { all: true }) =>
      fleetCall(client, command, data, o),
    nodes: (o?: PresenceOptions) => listNodes(client, o),
  };
}
