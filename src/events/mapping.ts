// libvirt events -> contract events (type, address, data). Pure functions.
import type { DomainStateName, LibvirtEvent, LifecycleEventName } from '../libvirt';
import type { TraceContext } from '../ops/trace';

export type EventObject = 'domain' | 'pool' | 'network' | 'agent' | 'command' | 'job';

/** A contract event before it gets its envelope. */
export interface ContractEvent {
  object: EventObject;
  /** object id for the address: UUID, node id or command id */
  id: string;
  /** last address part and last part of the type, e.g. lifecycle */
  event: string;
  data: Record<string, unknown>;
  /** the trace context of the command it comes from (replies, completions, job events) */
  trace?: TraceContext;
}

export function eventType(e: Pick<ContractEvent, 'object' | 'event'>): string {
  return `virtbus.event.${e.object}.${e.event}`;
}

/** What a domain event says besides its type and domain. */
function domainFields(e: Extract<LibvirtEvent, { domain: unknown }>): Record<string, unknown> {
  const { type: _t, domain: _d, ...rest } = e as unknown as Record<string, unknown>;
  return rest;
}

/**
 * The state a lifecycle event leaves its domain in, where the event alone
 * says it: whatever its detail, a domain that started or resumed runs, one
 * suspended is paused, one stopped is shut off. The others (defined,
 * undefined, shutdown — the guest may still be running —, crashed — it may
 * be kept or restarted) say nothing certain: the publisher reads the state.
 */
const STATE_AFTER: Partial<Record<LifecycleEventName, DomainStateName>> = {
  started: 'running',
  resumed: 'running',
  suspended: 'paused',
  stopped: 'shutoff',
  pmsuspended: 'pmsuspended',
};

/**
 * Maps a libvirt event; `seq` is filled in by the publisher, and `state`
 * too where the event does not say it (it reads it at publish time).
 */
export function mapLibvirtEvent(node: string, e: LibvirtEvent, at = new Date()): ContractEvent {
  const time = at.toISOString();
  if (e.type === 'pool-lifecycle' || e.type === 'pool-refresh') {
    return {
      object: 'pool',
      id: e.pool.uuid,
      event: e.type === 'pool-refresh' ? 'refresh' : 'lifecycle',
      data: {
        node,
        pool: e.pool,
        event: e.type === 'pool-refresh' ? 'refresh' : e.event,
        ...(e.type === 'pool-lifecycle' && { detail: e.detail }),
        at: time,
      },
    };
  }
  if (e.type === 'network-lifecycle') {
    return {
      object: 'network',
      id: e.network.uuid,
      event: 'lifecycle',
      data: { node, network: e.network, event: e.event, detail: e.detail, at: time },
    };
  }
  const domain = { uuid: e.domain.uuid, name: e.domain.name };
  if (e.type === 'lifecycle') {
    return {
      object: 'domain',
      id: domain.uuid,
      event: 'lifecycle',
      data: {
        node,
        domain,
        event: e.event,
        detail: e.detail,
        ...(STATE_AFTER[e.event] && { state: STATE_AFTER[e.event] }),
        at: time,
      },
    };
  }
  return {
    object: 'domain',
    id: domain.uuid,
    event: e.type,
    data: { node, domain, event: e.type, ...domainFields(e), at: time },
  };
}
