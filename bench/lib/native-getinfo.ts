// The libvirt part of the baseline: the bare native call domain.get is built
// on — look the domain up, virDomainGetInfo — through this project's facade,
// in the bench process, on the same URI the agent uses.
import { Connection } from '../../src/libvirt';
import type { Cleanup } from './cleanup';

export async function nativeGetInfo(
  uri: string,
  domain: string,
  cleanup: Cleanup,
  readOnly = false,
): Promise<() => Promise<void>> {
  const conn = await Connection.open(uri, { readOnly });
  cleanup.add(`close libvirt ${uri}`, () => conn.close());
  return async () => {
    await (await conn.domain(domain)).info();
  };
}
