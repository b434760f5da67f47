// Human output of the CLI's fleet commands: `virtbus nodes` and a command
// sent with --all / --nodes, as one table with a node column.
import type { FleetNode, NodeOutcome } from '../client/fleet';
import { table } from './format';

export function formatNodes(nodes: FleetNode[]): string {
  return table(
    nodes.map((n) => ({
      node: n.node,
      status: n.status,
      version: n.version,
      libvirt: n.libvirtUri,
      transport: n.transport,
      'last seen': n.lastSeen,
    })),
  );
}

/**
 * A list result (one array field, e.g. domain.list's domains) becomes one
 * row per item with the node in front; anything else one row per node. A
 * node's error or silence is a row of its own.
 */
export function formatFleet(outcomes: NodeOutcome[]): string {
  const rows: Array<Record<string, unknown>> = [];
  for (const o of outcomes) {
    if (o.outcome === 'no-reply') rows.push({ node: o.node, outcome: 'no reply' });
    else if (o.outcome === 'error')
      rows.push({
        node: o.node,
        outcome: `error ${o.error.code}`,
        message: `${o.error.message}${o.error.libvirt ? ` (libvirt ${o.error.libvirt.name})` : ''}`,
      });
    else {
      const r = o.result;
      const fields = r && typeof r === 'object' && !Array.isArray(r) ? Object.entries(r) : [];
      const list = fields.length === 1 && Array.isArray(fields[0][1]) ? (fields[0][1] as unknown[]) : undefined;
      if (list) {
        if (list.length === 0) rows.push({ node: o.node, outcome: 'ok (none)' });
        for (const item of list)
          rows.push({ node: o.node, ...(item && typeof item === 'object' ? item : { value: item }) });
      } else
        rows.push({ node: o.node, outcome: 'ok', ...(fields.length ? Object.fromEntries(fields) : { result: r }) });
    }
  }
  return table(rows);
}

/** 0 when every node answered ok, 1 when any answered with an error or not at all. */
export function fleetExitCode(outcomes: NodeOutcome[]): number {
  return outcomes.every((o) => o.outcome === 'ok') ? 0 : 1;
}
