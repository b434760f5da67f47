// A migration's outcome once the guest has been located: the contract
// result, or the error for a guest found on neither or both nodes.
import { CommandError } from '../../errors';
import type { MigrateResult } from './migration-options';
import { describePlacement, type Placement } from './migration-placement';
import { completedNumbers, type MigrationStats } from './migration-stats';
import type { MigrationFacts, WatchOutcome } from './migration-watch';

export function inDoubt(target: string, p: Placement, said: string, watch: WatchOutcome): CommandError {
  return new CommandError(
    'INTERNAL',
    `${target} ended (${said}${watch.cancelled ? ', after a cancel' : ''}${watch.timedOut ? ', after the time limit' : ''}) ` +
      `but the guest is not on exactly one node (${describePlacement(p)}); check both nodes before acting`,
    { source: p.source, destination: p.destination },
  );
}

/** The contract result: numbers from libvirt's completed-job statistics, from the source if it kept them, else the destination. */
export function migrationResult(
  facts: MigrationFacts,
  p: Placement,
  last: MigrationStats | undefined,
  wallMs: number,
  recovered = false,
): MigrateResult {
  const src = completedNumbers(p.sourceStats);
  const dst = completedNumbers(p.destinationStats);
  return {
    uuid: facts.uuid,
    name: facts.name,
    ...(facts.destinationNode && { node: facts.destinationNode }),
    state: p.destination === 'unknown' ? 'running' : p.destination,
    downtimeMs: src.downtimeMs ?? dst.downtimeMs ?? null,
    totalMs: src.totalMs ?? dst.totalMs ?? wallMs,
    bytes: src.bytes ?? dst.bytes ?? last?.dataProcessed ?? null,
    ...(recovered && { recovered: true }),
  };
}
