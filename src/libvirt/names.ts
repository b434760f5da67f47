// Turns libvirt's numeric enums into the lower-case words used everywhere
// above the binding ("started", "migrated", "shutoff"), using the tables
// generated from the headers.
import { enums, strings } from './gen/constants.gen';
import { DOMAIN_STATES, type DomainStateName } from '../contract/domain-states';

type EnumTable = Readonly<Record<string, number>>;

/** value -> word, per table and prefix, built on first use (events and states name numbers on every call) */
const wordsOf = new WeakMap<EnumTable, Map<string, Map<number, string>>>();

function words(table: EnumTable, prefix: string): Map<number, string> {
  let byPrefix = wordsOf.get(table);
  if (!byPrefix) wordsOf.set(table, (byPrefix = new Map()));
  let m = byPrefix.get(prefix);
  if (!m) {
    m = new Map();
    for (const [k, v] of Object.entries(table)) {
      // the first member with a value wins, as a scan in declaration order would find it
      if (k.startsWith(prefix) && !m.has(v)) m.set(v, k.slice(prefix.length).toLowerCase().replace(/_/g, '-'));
    }
    byPrefix.set(prefix, m);
  }
  return m;
}

/** The member of `table` with `value`, minus `prefix`, in kebab-case; `unknown-N` if absent. */
export function enumWord(table: EnumTable, prefix: string, value: number): string {
  return words(table, prefix).get(value) ?? `unknown-${value}`;
}

/** The value of the member named `prefix + WORD` (inverse of enumWord). */
export function enumValue(table: EnumTable, prefix: string, word: string): number | undefined {
  return table[prefix + word.toUpperCase().replace(/-/g, '_')];
}

export const LIFECYCLE_EVENTS = [
  'defined',
  'undefined',
  'started',
  'suspended',
  'resumed',
  'stopped',
  'shutdown',
  'pmsuspended',
  'crashed',
] as const;
export type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number];

const detailTables: Record<LifecycleEventName, [EnumTable, string]> = {
  defined: [enums.virDomainEventDefinedDetailType, 'VIR_DOMAIN_EVENT_DEFINED_'],
  undefined: [enums.virDomainEventUndefinedDetailType, 'VIR_DOMAIN_EVENT_UNDEFINED_'],
  started: [enums.virDomainEventStartedDetailType, 'VIR_DOMAIN_EVENT_STARTED_'],
  suspended: [enums.virDomainEventSuspendedDetailType, 'VIR_DOMAIN_EVENT_SUSPENDED_'],
  resumed: [enums.virDomainEventResumedDetailType, 'VIR_DOMAIN_EVENT_RESUMED_'],
  stopped: [enums.virDomainEventStoppedDetailType, 'VIR_DOMAIN_EVENT_STOPPED_'],
  shutdown: [enums.virDomainEventShutdownDetailType, 'VIR_DOMAIN_EVENT_SHUTDOWN_'],
  pmsuspended: [enums.virDomainEventPMSuspendedDetailType, 'VIR_DOMAIN_EVENT_PMSUSPENDED_'],
  crashed: [enums.virDomainEventCrashedDetailType, 'VIR_DOMAIN_EVENT_CRASHED_'],
};

export function lifecycleEvent(event: number, detail: number): { event: LifecycleEventName; detail: string } {
  const name = enumWord(enums.virDomainEventType, 'VIR_DOMAIN_EVENT_', event) as LifecycleEventName;
  const table = detailTables[name];
  return { event: name, detail: table ? enumWord(table[0], table[1], detail) : `unknown-${detail}` };
}

export { DOMAIN_STATES, type DomainStateName };

const reasonTables: Record<DomainStateName, [EnumTable, string]> = {
  nostate: [enums.virDomainNostateReason, 'VIR_DOMAIN_NOSTATE_'],
  running: [enums.virDomainRunningReason, 'VIR_DOMAIN_RUNNING_'],
  blocked: [enums.virDomainBlockedReason, 'VIR_DOMAIN_BLOCKED_'],
  paused: [enums.virDomainPausedReason, 'VIR_DOMAIN_PAUSED_'],
  shutdown: [enums.virDomainShutdownReason, 'VIR_DOMAIN_SHUTDOWN_'],
  shutoff: [enums.virDomainShutoffReason, 'VIR_DOMAIN_SHUTOFF_'],
  crashed: [enums.virDomainCrashedReason, 'VIR_DOMAIN_CRASHED_'],
  pmsuspended: [enums.virDomainPMSuspendedReason, 'VIR_DOMAIN_PMSUSPENDED_'],
};

export function domainState(state: number): DomainStateName {
  return enumWord(enums.virDomainState, 'VIR_DOMAIN_', state) as DomainStateName;
}

export function domainStateReason(state: number, reason: number): string {
  const table = reasonTables[domainState(state)];
  return table ? enumWord(table[0], table[1], reason) : `unknown-${reason}`;
}

export type PoolStateName = 'inactive' | 'building' | 'running' | 'degraded' | 'inaccessible';
export function poolState(state: number): PoolStateName {
  return enumWord(enums.virStoragePoolState, 'VIR_STORAGE_POOL_', state) as PoolStateName;
}

export function poolLifecycleEvent(event: number): string {
  return enumWord(enums.virStoragePoolEventLifecycleType, 'VIR_STORAGE_POOL_EVENT_', event);
}

export function networkLifecycleEvent(event: number): string {
  return enumWord(enums.virNetworkEventLifecycleType, 'VIR_NETWORK_EVENT_', event);
}

export function volumeType(type: number): string {
  return enumWord(enums.virStorageVolType, 'VIR_STORAGE_VOL_', type);
}

export function closeReason(reason: number): string {
  return enumWord(enums.virConnectCloseReason, 'VIR_CONNECT_CLOSE_REASON_', reason);
}

export function jobType(type: number): string {
  return enumWord(enums.virDomainJobType, 'VIR_DOMAIN_JOB_', type);
}

export { enums, strings };
