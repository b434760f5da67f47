// Integers in commands stay exact: beyond 2^53 - 1 a JSON number loses digits
// on its way to libvirt (2^64 KiB arrived as 0).
import { COMMANDS } from '../../src/contract/commands';
import { validator } from '../../src/contract/validate';

test.each([
  ['domain.setMemory', { domain: 'd', memoryKiB: 2 ** 64 }],
  ['vol.create', { pool: 'p', name: 'v', capacityBytes: 2 ** 64 }],
  ['vol.resize', { pool: 'p', volume: 'v', capacityBytes: 2 ** 53 }],
  ['domain.migrate', { domain: 'd', to: 'n2', bandwidthMiBs: 2 ** 60 }],
] as const)('%s refuses integers above 2^53 - 1', (name, data) => {
  expect(validator(COMMANDS[name].data)(data)).toMatch(/must be <= 9007199254740991/);
});

test('the largest exact integer is accepted', () => {
  expect(
    validator(COMMANDS['vol.create'].data)({ pool: 'p', name: 'v', capacityBytes: Number.MAX_SAFE_INTEGER }),
  ).toBeUndefined();
});
