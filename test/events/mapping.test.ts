// libvirt events -> contract events, without libvirt: the address (object,
// id, event), the type, and the exact data each kind of libvirt event maps
// to, and the state a lifecycle event says. `seq`, and `state` where the
// event does not say it, are the publisher's (test/events/publisher.test.ts).
import { eventType, mapLibvirtEvent } from '../../src/events/mapping';
import { DomainEventData, ObjectEventData } from '../../src/contract/events';
import { validator } from '../../src/contract/validate';
import type { DomainEvent, LibvirtEvent } from '../../src/libvirt';

const NODE = 'node-1';
const AT = new Date('2024-05-06T07:08:09.010Z');
const TIME = '2024-05-06T07:08:09.010Z';
const DOM = { name: 'web-1', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', id: 7 };
const DOM_REF = { uuid: DOM.uuid, name: DOM.name };
const POOL = { name: 'default-pool', uuid: 'dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566' };
const NET = { name: 'default', uuid: 'dd8fe884-6c02-601e-7551-cca97df1c5df' };

describe('event types', () => {
  test('the type is virtbus.event.<object>.<event>', () => {
    expect(eventType({ object: 'domain', event: 'lifecycle' })).toBe('virtbus.event.domain.lifecycle');
    expect(eventType({ object: 'domain', event: 'block-job' })).toBe('virtbus.event.domain.block-job');
    expect(eventType({ object: 'pool', event: 'refresh' })).toBe('virtbus.event.pool.refresh');
    expect(eventType({ object: 'agent', event: 'snapshot' })).toBe('virtbus.event.agent.snapshot');
    expect(eventType({ object: 'command', event: 'completed' })).toBe('virtbus.event.command.completed');
  });
});

describe('domain events', () => {
  test('a lifecycle event is addressed by the domain UUID and carries its event and detail', () => {
    const ce = mapLibvirtEvent(NODE, { type: 'lifecycle', domain: DOM, event: 'started', detail: 'booted' }, AT);
    expect(ce).toEqual({
      object: 'domain',
      id: DOM.uuid,
      event: 'lifecycle',
      data: { node: NODE, domain: DOM_REF, event: 'started', detail: 'booted', state: 'running', at: TIME },
    });
    expect(eventType(ce)).toBe('virtbus.event.domain.lifecycle');
  });

  test('a lifecycle event carries the state it leaves the domain in where it says it, whatever its detail; else none', () => {
    const stateOf = (event: string, detail: string) =>
      mapLibvirtEvent(NODE, { type: 'lifecycle', domain: DOM, event, detail } as LibvirtEvent, AT).data.state;
    expect(stateOf('started', 'from-snapshot')).toBe('running');
    expect(stateOf('resumed', 'migrated')).toBe('running');
    expect(stateOf('suspended', 'ioerror')).toBe('paused');
    expect(stateOf('stopped', 'saved')).toBe('shutoff');
    expect(stateOf('pmsuspended', 'disk')).toBe('pmsuspended');
    // the guest may still run, be kept crashed or restarted, or the event is about the definition only
    for (const event of ['shutdown', 'crashed', 'defined', 'undefined']) expect(stateOf(event, 'x')).toBeUndefined();
  });

  test('the domain reference keeps uuid and name only: the run-time id is not part of the contract', () => {
    const ce = mapLibvirtEvent(NODE, { type: 'reboot', domain: DOM }, AT);
    expect(ce.data.domain).toEqual({ uuid: DOM.uuid, name: DOM.name });
    expect(ce.data.domain).not.toHaveProperty('id');
  });

  // Every non-lifecycle domain event: the event's own name, all its fields, nothing else.
  const cases: Array<[DomainEvent, Record<string, unknown>]> = [
    [{ type: 'reboot', domain: DOM }, {}],
    [{ type: 'rtc-change', domain: DOM, utcOffset: -3600 }, { utcOffset: -3600 }],
    [{ type: 'watchdog', domain: DOM, action: 'reset' }, { action: 'reset' }],
    [
      {
        type: 'io-error',
        domain: DOM,
        srcPath: '/var/lib/a.qcow2',
        devAlias: 'virtio-disk0',
        action: 'pause',
        reason: 'enospc',
      },
      { srcPath: '/var/lib/a.qcow2', devAlias: 'virtio-disk0', action: 'pause', reason: 'enospc' },
    ],
    [{ type: 'control-error', domain: DOM }, {}],
    [
      { type: 'block-job', domain: DOM, disk: 'vda', jobType: 'copy', status: 'ready' },
      { disk: 'vda', jobType: 'copy', status: 'ready' },
    ],
    [
      {
        type: 'disk-change',
        domain: DOM,
        oldSrcPath: '/iso/a.iso',
        newSrcPath: null,
        devAlias: 'ide0-1-0',
        reason: 'missing-on-start',
      },
      { oldSrcPath: '/iso/a.iso', newSrcPath: null, devAlias: 'ide0-1-0', reason: 'missing-on-start' },
    ],
    [
      { type: 'tray-change', domain: DOM, devAlias: 'ide0-1-0', reason: 'open' },
      { devAlias: 'ide0-1-0', reason: 'open' },
    ],
    [{ type: 'pm-wakeup', domain: DOM, reason: 0 }, { reason: 0 }],
    [{ type: 'pm-suspend', domain: DOM, reason: 0 }, { reason: 0 }],
    [{ type: 'pm-suspend-disk', domain: DOM, reason: 0 }, { reason: 0 }],
    [{ type: 'balloon-change', domain: DOM, actualKiB: 1048576 }, { actualKiB: 1048576 }],
    [{ type: 'device-added', domain: DOM, devAlias: 'net1' }, { devAlias: 'net1' }],
    [{ type: 'device-removed', domain: DOM, devAlias: 'net1' }, { devAlias: 'net1' }],
    [{ type: 'device-removal-failed', domain: DOM, devAlias: 'net1' }, { devAlias: 'net1' }],
    [
      { type: 'tunable', domain: DOM, params: { 'cputune.vcpu_period': 100000, 'cputune.emulatorpin': '0-1' } },
      { params: { 'cputune.vcpu_period': 100000, 'cputune.emulatorpin': '0-1' } },
    ],
    [
      { type: 'agent-lifecycle', domain: DOM, state: 'connected', reason: 'channel' },
      { state: 'connected', reason: 'channel' },
    ],
    [{ type: 'migration-iteration', domain: DOM, iteration: 3 }, { iteration: 3 }],
    [
      { type: 'job-completed', domain: DOM, params: { type: 3, time_elapsed: 1234, success: true } },
      { params: { type: 3, time_elapsed: 1234, success: true } },
    ],
    [
      { type: 'metadata-change', domain: DOM, metadataType: 'element', nsuri: 'http://example.org/x' },
      { metadataType: 'element', nsuri: 'http://example.org/x' },
    ],
    [
      { type: 'block-threshold', domain: DOM, dev: 'vda', path: '/var/lib/a.qcow2', threshold: 1 << 30, excess: 4096 },
      { dev: 'vda', path: '/var/lib/a.qcow2', threshold: 1 << 30, excess: 4096 },
    ],
    [
      { type: 'memory-failure', domain: DOM, recipient: 1, action: 2, flags: 1 },
      { recipient: 1, action: 2, flags: 1 },
    ],
  ];

  test.each(cases.map(([e, fields]) => [e.type, e, fields] as const))(
    'the %s event is addressed by its own name and keeps all its fields',
    (type, e, fields) => {
      const ce = mapLibvirtEvent(NODE, e, AT);
      expect(ce).toEqual({
        object: 'domain',
        id: DOM.uuid,
        event: type,
        data: { node: NODE, domain: DOM_REF, event: type, ...fields, at: TIME },
      });
      expect(eventType(ce)).toBe(`virtbus.event.domain.${type}`);
    },
  );

  test('the cases above cover every domain event type libvirt delivers', () => {
    // a new type in src/libvirt/events.ts fails the typecheck (npm run typecheck) here until it is listed
    const every: Record<Exclude<DomainEvent['type'], 'lifecycle'>, true> = {
      reboot: true,
      'rtc-change': true,
      watchdog: true,
      'io-error': true,
      'control-error': true,
      'block-job': true,
      'disk-change': true,
      'tray-change': true,
      'pm-wakeup': true,
      'pm-suspend': true,
      'pm-suspend-disk': true,
      'balloon-change': true,
      'device-added': true,
      'device-removed': true,
      'device-removal-failed': true,
      tunable: true,
      'agent-lifecycle': true,
      'migration-iteration': true,
      'job-completed': true,
      'metadata-change': true,
      'block-threshold': true,
      'memory-failure': true,
    };
    expect(cases.map(([e]) => e.type).sort()).toEqual(Object.keys(every).sort());
  });

  test('every domain event, once the publisher has numbered it, fits the contract schema', () => {
    const check = validator(DomainEventData);
    const all: LibvirtEvent[] = [
      { type: 'lifecycle', domain: DOM, event: 'stopped', detail: 'shutdown' },
      ...cases.map(([e]) => e),
    ];
    for (const e of all) {
      const ce = mapLibvirtEvent(NODE, e, AT);
      expect(ce.data).not.toHaveProperty('seq'); // the publisher's
      expect([e.type, check({ ...ce.data, seq: 1 })]).toEqual([e.type, undefined]);
    }
  });

  test('mapping does not change the libvirt event it was given', () => {
    const e: LibvirtEvent = {
      type: 'block-job',
      domain: { ...DOM },
      disk: 'vda',
      jobType: 'pull',
      status: 'completed',
    };
    const before = structuredClone(e);
    mapLibvirtEvent(NODE, e, AT);
    expect(e).toEqual(before);
  });
});

describe('pool and network events', () => {
  test('a pool lifecycle event is addressed by the pool UUID and carries its event and numeric detail', () => {
    const ce = mapLibvirtEvent(NODE, { type: 'pool-lifecycle', pool: POOL, event: 'started', detail: 0 }, AT);
    expect(ce).toEqual({
      object: 'pool',
      id: POOL.uuid,
      event: 'lifecycle',
      data: { node: NODE, pool: POOL, event: 'started', detail: 0, at: TIME },
    });
    expect(eventType(ce)).toBe('virtbus.event.pool.lifecycle');
  });

  test('a pool refresh is its own event, with event "refresh" and no detail', () => {
    const ce = mapLibvirtEvent(NODE, { type: 'pool-refresh', pool: POOL }, AT);
    expect(ce).toEqual({
      object: 'pool',
      id: POOL.uuid,
      event: 'refresh',
      data: { node: NODE, pool: POOL, event: 'refresh', at: TIME },
    });
    expect(ce.data).not.toHaveProperty('detail');
    expect(eventType(ce)).toBe('virtbus.event.pool.refresh');
  });

  test('a network lifecycle event is addressed by the network UUID and carries its event and detail', () => {
    const ce = mapLibvirtEvent(NODE, { type: 'network-lifecycle', network: NET, event: 'stopped', detail: 0 }, AT);
    expect(ce).toEqual({
      object: 'network',
      id: NET.uuid,
      event: 'lifecycle',
      data: { node: NODE, network: NET, event: 'stopped', detail: 0, at: TIME },
    });
    expect(eventType(ce)).toBe('virtbus.event.network.lifecycle');
  });

  test('pool and network events fit the contract schema and get no seq or state', () => {
    const check = validator(ObjectEventData);
    for (const e of [
      { type: 'pool-lifecycle', pool: POOL, event: 'defined', detail: 0 },
      { type: 'pool-refresh', pool: POOL },
      { type: 'network-lifecycle', network: NET, event: 'started', detail: 0 },
    ] as LibvirtEvent[]) {
      const ce = mapLibvirtEvent(NODE, e, AT);
      expect([e.type, check(ce.data)]).toEqual([e.type, undefined]);
      expect(ce.data).not.toHaveProperty('seq');
      expect(ce.data).not.toHaveProperty('state');
    }
  });
});

describe('time', () => {
  test('at is the given instant in ISO 8601 UTC', () => {
    const ce = mapLibvirtEvent(NODE, { type: 'reboot', domain: DOM }, new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6)));
    expect(ce.data.at).toBe('2030-01-02T03:04:05.006Z');
  });

  test('without an instant, at is the time of mapping', () => {
    const before = Date.now();
    const ce = mapLibvirtEvent(NODE, { type: 'pool-refresh', pool: POOL });
    const after = Date.now();
    const at = Date.parse(ce.data.at as string);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
  });
});
