// What a node last said about itself, as the broker keeps it — the retained
// MQTT status (virtbus/v1/<node>/status) or its latest record in the AMQP
// presence log (the stream virtbus.fleet.presence) — so another agent finds
// a migration destination when it needs one: no broadcast, no fleet-wide
// subscription, nothing per node on the broker.
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
