// A listen address (--metrics-listen), checked when the configuration is
// read: apart from the server, so reading it loads no HTTP module.

/** host and port of a listen address: 127.0.0.1:9477, [::1]:9477, :9477 (every address) */
export function parseListen(listen: string): { host?: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`listen address '${listen}' must be HOST:PORT (e.g. 127.0.0.1:9477)`);
  const host = m[1] ?? m[2];
  return { ...(host && { host }), port };
}
