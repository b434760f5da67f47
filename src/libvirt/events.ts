// Typed libvirt events: the native records (numbers, as libvirt's event
// thread copied them) become objects with string enums here, on the JS thread.
import type { NativeEventRecord, TypedParams } from './binding';
import {
  enumWord,
  enums,
  lifecycleEvent,
  networkLifecycleEvent,
  poolLifecycleEvent,
  type LifecycleEventName,
} from './names';

export interface DomainRef {
  name: string;
  uuid: string;
  id: number;
}
export interface ObjectRef {
  name: string;
  uuid: string;
}

interface DomainEventBase<T extends string> {
  type: T;
  domain: DomainRef;
}

export type LifecycleEvent = DomainEventBase<'lifecycle'> & { event: LifecycleEventName; detail: string };
export type RebootEvent = DomainEventBase<'reboot'>;
export type RtcChangeEvent = DomainEventBase<'rtc-change'> & { utcOffset: number };
export type WatchdogEvent = DomainEventBase<'watchdog'> & { action: string };
export type IoErrorEvent = DomainEventBase<'io-error'> & {
  srcPath: string | null;
  devAlias: string | null;
  action: string;
  reason: string | null;
};
export type ControlErrorEvent = DomainEventBase<'control-error'>;
export type BlockJobEvent = DomainEventBase<'block-job'> & { disk: string | null; jobType: string; status: string };
export type DiskChangeEvent = DomainEventBase<'disk-change'> & {
  oldSrcPath: string | null;
  newSrcPath: string | null;
  devAlias: string | null;
  reason: string;
};
export type TrayChangeEvent = DomainEventBase<'tray-change'> & { devAlias: string | null; reason: string };
export type PmWakeupEvent = DomainEventBase<'pm-wakeup'> & { reason: number };
export type PmSuspendEvent = DomainEventBase<'pm-suspend'> & { reason: number };
export type PmSuspendDiskEvent = DomainEventBase<'pm-suspend-disk'> & { reason: number };
export type BalloonChangeEvent = DomainEventBase<'balloon-change'> & { actualKiB: number };
export type DeviceAddedEvent = DomainEventBase<'device-added'> & { devAlias: string };
export type DeviceRemovedEvent = DomainEventBase<'device-removed'> & { devAlias: string };
export type DeviceRemovalFailedEvent = DomainEventBase<'device-removal-failed'> & { devAlias: string };
export type TunableEvent = DomainEventBase<'tunable'> & { params: TypedParams };
export type AgentLifecycleEvent = DomainEventBase<'agent-lifecycle'> & { state: string; reason: string };
export type MigrationIterationEvent = DomainEventBase<'migration-iteration'> & { iteration: number };
export type JobCompletedEvent = DomainEventBase<'job-completed'> & { params: TypedParams };
export type MetadataChangeEvent = DomainEventBase<'metadata-change'> & { metadataType: string; nsuri: string | null };
export type BlockThresholdEvent = DomainEventBase<'block-threshold'> & {
  dev: string | null;
  path: string | null;
  threshold: number;
  excess: number;
};
export type MemoryFailureEvent = DomainEventBase<'memory-failure'> & {
  recipient: number;
  action: number;
  flags: number;
};

export interface PoolLifecycleEvent {
  type: 'pool-lifecycle';
  pool: ObjectRef;
  event: string;
  detail: number;
}
export interface PoolRefreshEvent {
  type: 'pool-refresh';
  pool: ObjectRef;
}
export interface NetworkLifecycleEvent {
  type: 'network-lifecycle';
  network: ObjectRef;
  event: string;
  detail: number;
}

export type DomainEvent =
  | LifecycleEvent
  | RebootEvent
  | RtcChangeEvent
  | WatchdogEvent
  | IoErrorEvent
  | ControlErrorEvent
  | BlockJobEvent
  | DiskChangeEvent
  | TrayChangeEvent
  | PmWakeupEvent
  | PmSuspendEvent
  | PmSuspendDiskEvent
  | BalloonChangeEvent
  | DeviceAddedEvent
  | DeviceRemovedEvent
  | DeviceRemovalFailedEvent
  | TunableEvent
  | AgentLifecycleEvent
  | MigrationIterationEvent
  | JobCompletedEvent
  | MetadataChangeEvent
  | BlockThresholdEvent
  | MemoryFailureEvent;
export type LibvirtEvent = DomainEvent | PoolLifecycleEvent | PoolRefreshEvent | NetworkLifecycleEvent;
export type LibvirtEventType = LibvirtEvent['type'];
export type LibvirtEventOf<T extends LibvirtEventType> = Extract<LibvirtEvent, { type: T }>;

const word = (table: Readonly<Record<string, number>>, prefix: string, v: unknown) =>
  enumWord(table, prefix, v as number);

/** Converts a native record; unknown record types pass through as they are. */
export function toLibvirtEvent(r: NativeEventRecord): LibvirtEvent {
  switch (r.type) {
    case 'lifecycle': {
      const { event, detail } = lifecycleEvent(r.event as number, r.detail as number);
      return { type: 'lifecycle', domain: r.domain!, event, detail };
    }
    case 'watchdog':
      return {
        ...(r as unknown as WatchdogEvent),
        action: word(enums.virDomainEventWatchdogAction, 'VIR_DOMAIN_EVENT_WATCHDOG_', r.action),
      };
    case 'io-error':
      return {
        ...(r as unknown as IoErrorEvent),
        action: word(enums.virDomainEventIOErrorAction, 'VIR_DOMAIN_EVENT_IO_ERROR_', r.action),
      };
    case 'block-job':
      return {
        ...(r as unknown as BlockJobEvent),
        jobType: word(enums.virDomainBlockJobType, 'VIR_DOMAIN_BLOCK_JOB_TYPE_', r.jobType),
        status: word(enums.virConnectDomainEventBlockJobStatus, 'VIR_DOMAIN_BLOCK_JOB_', r.status),
      };
    case 'disk-change':
      return {
        ...(r as unknown as DiskChangeEvent),
        reason: word(enums.virConnectDomainEventDiskChangeReason, 'VIR_DOMAIN_EVENT_', r.reason),
      };
    case 'tray-change':
      return {
        ...(r as unknown as TrayChangeEvent),
        reason: word(enums.virDomainEventTrayChangeReason, 'VIR_DOMAIN_EVENT_TRAY_CHANGE_', r.reason),
      };
    case 'agent-lifecycle':
      return {
        ...(r as unknown as AgentLifecycleEvent),
        state: word(
          enums.virConnectDomainEventAgentLifecycleState,
          'VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_',
          r.state,
        ),
        reason: word(
          enums.virConnectDomainEventAgentLifecycleReason,
          'VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_',
          r.reason,
        ),
      };
    case 'metadata-change':
      return {
        ...(r as unknown as MetadataChangeEvent),
        metadataType: word(enums.virDomainMetadataType, 'VIR_DOMAIN_METADATA_', r.metadataType),
      };
    case 'pool-lifecycle':
      return {
        type: 'pool-lifecycle',
        pool: r.pool!,
        event: poolLifecycleEvent(r.event as number),
        detail: r.detail as number,
      };
    case 'network-lifecycle':
      return {
        type: 'network-lifecycle',
        network: r.network!,
        event: networkLifecycleEvent(r.event as number),
        detail: r.detail as number,
      };
    default:
      return r as unknown as LibvirtEvent;
  }
}
