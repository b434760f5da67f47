// domain.snapshot.list: quick, so a plain handler (creating, reverting and
// deleting snapshots are jobs: src/jobs/kinds/).
import type { CommandResult } from '../contract/commands';
import type { Connection } from '../libvirt';
import type { HandlerTable } from './context';

/** domain.snapshot.list is quick: a plain handler. */
export async function listSnapshots(c: Connection, domain: string): Promise<CommandResult<'domain.snapshot.list'>> {
  const dom = await c.domain(domain);
  const snaps = await dom.snapshots();
  return {
    snapshots: await Promise.all(
      snaps.map(async (s) => {
        const xml = await s.xml();
        const t = xml.match(/<creationTime>(\d+)<\/creationTime>/)?.[1];
        const state = xml.match(/<state>([^<]+)<\/state>/)?.[1];
        return {
          name: s.name,
          ...(state && { state }),
          ...(t && { creationTime: new Date(Number(t) * 1000).toISOString() }),
        };
      }),
    ),
  };
}

export const snapshotHandlers: HandlerTable = {
  'domain.snapshot.list': async (d, { conn }) => listSnapshots(conn, d.domain),
};
