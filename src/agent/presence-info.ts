// What a node last said about itself, as the broker keeps it — the retained
// MQTT status (virtbus/v1/<node>/status) or the AMQP presence queue
// (virtbus.presence.<node>, the latest presence event only) — so another
// agent finds a migration destination by asking for that one node: no
// broadcast, no fleet-wide subscription, O(1) per lookup.
export interface PresenceInfo {
  node: string;
  status: 'online' | 'offline';
  libvirtUri?: string;
  migrateUri?: string;
  bootId?: string;
  at?: string;
}

/** Reads a status payload or presence event data; undefined when it does not describe `node`. */
export function presenceInfo(v: unknown, node: string): PresenceInfo | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const d = v as Record<string, unknown>;
  if (d.node !== node || (d.status !== 'online' && d.status !== 'offline')) return undefined;
  const str = (k: string) => (typeof d[k] === 'string' ? { [k]: d[k] as string } : {});
  return {
    node,
    status: d.status,
    ...str('libvirtUri'),
    ...str('migrateUri'),
    ...str('bootId'),
    ...str('at'),
  };
}
