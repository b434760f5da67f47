export {
  Connection,
  setLibvirtThreadPoolSize,
  libvirtThreadPoolSize,
  splitVersion,
  trimNativeHeap,
} from './connection';
export type { ConnectionEvents, OpenOptions, NodeInfo, EventSubscription } from './connection';
export { Domain, DomainSnapshot } from './domain';
export type { DomainInfo, JobStats } from './domain';
export { StoragePool, StorageVolume } from './storage';
export type { StoragePoolInfo, StorageVolumeInfo } from './storage';
export { Network } from './network';
export { LibvirtError, isLibvirtError } from './error';
export { ReconnectingConnection, NotConnectedError } from './reconnecting';
export type { ReconnectingConnectionEvents, ReconnectingOptions } from './reconnecting';
export type * from './events';
export type { DomainStateName, LifecycleEventName } from './names';
export type { MigrateOptions } from './migration';
export type { DomainStatsOptions } from './flags';
export * as names from './names';
export { domainStateByUuid, domainSummary, listDomainStates, operateDomain } from './one-hop';
export type { DomainListEntry, DomainSummary, LifecycleRequest } from './one-hop';
