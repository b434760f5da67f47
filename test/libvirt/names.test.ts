// libvirt's numbers as words: kebab-case members of the generated tables,
// chosen by prefix, `unknown-N` for numbers a newer libvirt may send.
import { enumValue, enumWord, domainState, domainStateReason, lifecycleEvent } from '../../src/libvirt/names';
import { enums } from '../../src/libvirt/gen/constants.gen';

test('a member becomes the lower-case kebab word after its prefix, and back', () => {
  const t = enums.virDomainEventStartedDetailType;
  expect(enumWord(t, 'VIR_DOMAIN_EVENT_STARTED_', t.VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT)).toBe('from-snapshot');
  expect(enumValue(t, 'VIR_DOMAIN_EVENT_STARTED_', 'from-snapshot')).toBe(t.VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT);
});

test('a number the table does not have, or only under another prefix, is unknown-N', () => {
  expect(enumWord(enums.virDomainState, 'VIR_DOMAIN_', 9999)).toBe('unknown-9999');
  expect(enumWord(enums.virDomainState, 'VIR_NO_SUCH_PREFIX_', enums.virDomainState.VIR_DOMAIN_RUNNING)).toBe(
    'unknown-1',
  );
});

test('the same answers on every call (the words are built once per table and prefix)', () => {
  for (let i = 0; i < 3; i++) {
    expect(domainState(enums.virDomainState.VIR_DOMAIN_PAUSED)).toBe('paused');
    expect(
      domainStateReason(enums.virDomainState.VIR_DOMAIN_PAUSED, enums.virDomainPausedReason.VIR_DOMAIN_PAUSED_IOERROR),
    ).toBe('ioerror');
    expect(
      lifecycleEvent(
        enums.virDomainEventType.VIR_DOMAIN_EVENT_STOPPED,
        enums.virDomainEventStoppedDetailType.VIR_DOMAIN_EVENT_STOPPED_MIGRATED,
      ),
    ).toEqual({
      event: 'stopped',
      detail: 'migrated',
    });
  }
});
