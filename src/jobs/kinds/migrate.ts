// domain.migrate: peer-to-peer live migration (src/jobs/runners/migrate.ts).
// prepare turns `to: <node>` into that node's libvirt URI (and data channel)
// from what its agent announced, before the job is recorded, so the job —
// and its recovery after a restart — never depends on presence again.
import type { CommandData } from '../../contract/commands';
import { CommandError } from '../../errors';
import { MIGRATE_KIND, migrationRunner } from '../runners/migrate';
import type { MigrateJobData } from '../runners/migration-options';
import { jobKind, type PrepareContext } from './kind';

/** Outgoing migrations are bandwidth- and CPU-heavy on both ends; libvirt itself allows many more. */
const CONCURRENCY = 2;

export async function migrationData(d: CommandData<'domain.migrate'>, ctx: PrepareContext): Promise<MigrateJobData> {
  const { to, destination, ...rest } = d;
  if (!to && !destination)
    throw new CommandError('BAD_REQUEST', 'domain.migrate needs `to` (a node id) or `destination.uri`');
  let destinationUri = destination?.uri;
  let migrateUri = destination?.migrateUri;
  if (to) {
    if (to === ctx.node) throw new CommandError('BAD_REQUEST', `node '${to}' is this node`);
    const peer = await ctx.peers?.resolve(to);
    if (!peer)
      throw new CommandError('NOT_FOUND', `no presence seen from node '${to}': is its agent running on this bus?`);
    if (peer.status === 'offline') throw new CommandError('UNAVAILABLE', `node '${to}' said it is offline`);
    destinationUri ??= peer.libvirtUri;
    migrateUri ??= peer.migrateUri;
  }
  if (!destinationUri) throw new CommandError('UNAVAILABLE', `node '${to}' announced no libvirt URI`);
  return { ...rest, destinationUri, ...(migrateUri && { migrateUri }), ...(to && { destinationNode: to }) };
}

export const migrate = jobKind<CommandData<'domain.migrate'>, MigrateJobData>({
  name: MIGRATE_KIND,
  commands: ['domain.migrate'],
  concurrency: CONCURRENCY,
  prepare: migrationData,
  runner: (d) => migrationRunner({ source: d.connection, pollIntervalMs: d.pollIntervalMs }),
});
