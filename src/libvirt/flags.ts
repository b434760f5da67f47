// Option objects -> libvirt flag words. Defaults are decided here, in
// TypeScript, never in the addon.
import { enums } from './gen/constants.gen';

const E = enums;

export interface AffectOptions {
  /** change the running guest */
  live?: boolean;
  /** change the persistent definition */
  config?: boolean;
}

/** VIR_DOMAIN_AFFECT_*: neither given means "current" (live if running, else config). */
export function affectFlags(o: AffectOptions = {}): number {
  return (
    (o.live ? E.virDomainModificationImpact.VIR_DOMAIN_AFFECT_LIVE : 0) |
    (o.config ? E.virDomainModificationImpact.VIR_DOMAIN_AFFECT_CONFIG : 0)
  );
}

export interface DomainXmlOptions {
  inactive?: boolean;
  secure?: boolean;
  migratable?: boolean;
  updateCpu?: boolean;
}
export function domainXmlFlags(o: DomainXmlOptions = {}): number {
  const f = E.virDomainXMLFlags;
  return (
    (o.secure ? f.VIR_DOMAIN_XML_SECURE : 0) |
    (o.inactive ? f.VIR_DOMAIN_XML_INACTIVE : 0) |
    (o.updateCpu ? f.VIR_DOMAIN_XML_UPDATE_CPU : 0) |
    (o.migratable ? f.VIR_DOMAIN_XML_MIGRATABLE : 0)
  );
}

export type DomainListFilter = 'all' | 'active' | 'inactive';
export function domainListFlags(filter: DomainListFilter = 'all'): number {
  const f = E.virConnectListAllDomainsFlags;
  if (filter === 'active') return f.VIR_CONNECT_LIST_DOMAINS_ACTIVE;
  if (filter === 'inactive') return f.VIR_CONNECT_LIST_DOMAINS_INACTIVE;
  return 0;
}

export interface UndefineOptions {
  managedSave?: boolean;
  snapshotsMetadata?: boolean;
  nvram?: boolean;
  checkpointsMetadata?: boolean;
}
export function undefineFlags(o: UndefineOptions = {}): number {
  const f = E.virDomainUndefineFlagsValues;
  return (
    (o.managedSave ? f.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE : 0) |
    (o.snapshotsMetadata ? f.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA : 0) |
    (o.nvram ? f.VIR_DOMAIN_UNDEFINE_NVRAM : 0) |
    (o.checkpointsMetadata ? f.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA : 0)
  );
}

export type ShutdownMode = 'default' | 'acpi' | 'agent' | 'initctl' | 'signal' | 'paravirt';
export function shutdownFlags(mode: ShutdownMode = 'default'): number {
  const f = E.virDomainShutdownFlagValues;
  switch (mode) {
    case 'acpi':
      return f.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN;
    case 'agent':
      return f.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT;
    case 'initctl':
      return f.VIR_DOMAIN_SHUTDOWN_INITCTL;
    case 'signal':
      return f.VIR_DOMAIN_SHUTDOWN_SIGNAL;
    case 'paravirt':
      return f.VIR_DOMAIN_SHUTDOWN_PARAVIRT;
    default:
      return f.VIR_DOMAIN_SHUTDOWN_DEFAULT;
  }
}

export function rebootFlags(mode: ShutdownMode = 'default'): number {
  const f = E.virDomainRebootFlagValues;
  switch (mode) {
    case 'acpi':
      return f.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN;
    case 'agent':
      return f.VIR_DOMAIN_REBOOT_GUEST_AGENT;
    case 'initctl':
      return f.VIR_DOMAIN_REBOOT_INITCTL;
    case 'signal':
      return f.VIR_DOMAIN_REBOOT_SIGNAL;
    case 'paravirt':
      return f.VIR_DOMAIN_REBOOT_PARAVIRT;
    default:
      return f.VIR_DOMAIN_REBOOT_DEFAULT;
  }
}

export interface StartOptions {
  paused?: boolean;
  autodestroy?: boolean;
  bypassCache?: boolean;
  forceBoot?: boolean;
}
export function startFlags(o: StartOptions = {}): number {
  const f = E.virDomainCreateFlags;
  return (
    (o.paused ? f.VIR_DOMAIN_START_PAUSED : 0) |
    (o.autodestroy ? f.VIR_DOMAIN_START_AUTODESTROY : 0) |
    (o.bypassCache ? f.VIR_DOMAIN_START_BYPASS_CACHE : 0) |
    (o.forceBoot ? f.VIR_DOMAIN_START_FORCE_BOOT : 0)
  );
}

export function destroyFlags(o: { graceful?: boolean } = {}): number {
  return o.graceful ? E.virDomainDestroyFlagsValues.VIR_DOMAIN_DESTROY_GRACEFUL : 0;
}

export interface SaveOptions {
  running?: boolean;
  paused?: boolean;
  bypassCache?: boolean;
}
export function saveFlags(o: SaveOptions = {}): number {
  const f = E.virDomainSaveRestoreFlags;
  return (
    (o.running ? f.VIR_DOMAIN_SAVE_RUNNING : 0) |
    (o.paused ? f.VIR_DOMAIN_SAVE_PAUSED : 0) |
    (o.bypassCache ? f.VIR_DOMAIN_SAVE_BYPASS_CACHE : 0)
  );
}

export function vcpuFlags(o: AffectOptions & { maximum?: boolean; guest?: boolean } = {}): number {
  const f = E.virDomainVcpuFlags;
  return affectFlags(o) | (o.maximum ? f.VIR_DOMAIN_VCPU_MAXIMUM : 0) | (o.guest ? f.VIR_DOMAIN_VCPU_GUEST : 0);
}

export function memoryFlags(o: AffectOptions & { maximum?: boolean } = {}): number {
  return affectFlags(o) | (o.maximum ? E.virDomainMemoryModFlags.VIR_DOMAIN_MEM_MAXIMUM : 0);
}

export interface DomainStatsOptions {
  /** for a domain whose job is busy, report what needs no waiting instead of waiting (one stuck guest must not stall the rest) */
  nowait?: boolean;
  /** fail if the driver lacks a requested group instead of leaving it out */
  enforce?: boolean;
  /** report the backing chain of each disk too */
  backing?: boolean;
}
/** VIR_CONNECT_GET_ALL_DOMAINS_STATS_* modifiers (no state filter: every domain). */
export function domainStatsFlags(o: DomainStatsOptions = {}): number {
  const f = E.virConnectGetAllDomainStatsFlags;
  return (
    (o.nowait ? f.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT : 0) |
    (o.enforce ? f.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS : 0) |
    (o.backing ? f.VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING : 0)
  );
}

export { E as enums };
