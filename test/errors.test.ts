// libvirt errors map to the contract's codes and keep the libvirt block.
import { CommandError, toWireError } from '../src/errors';
import { Connection, LibvirtError, NotConnectedError } from '../src/libvirt';

test('a real libvirt NO_DOMAIN becomes NOT_FOUND with its libvirt block', async () => {
  const conn = await Connection.open('test:///default');
  try {
    const err = await conn.domain('missing-vm').catch((e: unknown) => e);
    expect(toWireError(err)).toEqual({
      code: 'NOT_FOUND',
      message: (err as Error).message,
      libvirt: { code: 42, domain: expect.any(Number), name: 'VIR_ERR_NO_DOMAIN' },
    });
    const ro = await Connection.openReadOnly('test:///default');
    const denied = await (await ro.domain('test')).suspend().catch((e: unknown) => e);
    await ro.close();
    expect(toWireError(denied)).toMatchObject({ code: 'FORBIDDEN', libvirt: { name: 'VIR_ERR_OPERATION_DENIED' } });
  } finally {
    await conn.close();
  }
});

test('other errors', () => {
  expect(toWireError(new LibvirtError('x', 38, 0, 2))).toMatchObject({
    code: 'LIBVIRT',
    libvirt: { name: 'VIR_ERR_SYSTEM_ERROR' },
  });
  expect(toWireError(new LibvirtError('x', 55, 10, 2))).toMatchObject({
    code: 'CONFLICT',
    libvirt: { name: 'VIR_ERR_OPERATION_INVALID' },
  });
  expect(toWireError(new LibvirtError('x', 3, 10, 2))).toMatchObject({
    code: 'UNSUPPORTED',
    libvirt: { name: 'VIR_ERR_NO_SUPPORT' },
  });
  expect(toWireError(new NotConnectedError('qemu:///system')).code).toBe('UNAVAILABLE');
  expect(toWireError(new CommandError('EXPIRED', 'late'))).toEqual({ code: 'EXPIRED', message: 'late' });
  expect(toWireError(new TypeError('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' });
});
