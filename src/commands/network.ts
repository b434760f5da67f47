import type { CommandResult } from '../contract/commands';
import type { Network } from '../libvirt';
import type { HandlerTable } from './context';

async function networkSummary(n: Network): Promise<CommandResult<'network.get'>> {
  const [active, persistent, autostart, bridge] = await Promise.all([
    n.isActive(),
    n.isPersistent(),
    n.autostart().catch(() => false),
    n.bridgeName().catch(() => undefined),
  ]);
  return { uuid: n.uuid, name: n.name, active, persistent, autostart, ...(bridge && { bridge }) };
}

export const networkHandlers: HandlerTable = {
  'network.list': async (_d, { conn }) => ({
    networks: await Promise.all((await conn.listNetworks()).map(networkSummary)),
  }),
  'network.get': async (d, { conn }) => networkSummary(await conn.network(d.network)),
  'network.define': async (d, { conn }) => {
    const n = await conn.defineNetwork(d.xml);
    return { uuid: n.uuid, name: n.name };
  },
  'network.start': async (d, { conn }) => {
    const n = await conn.network(d.network);
    await n.start();
    return networkSummary(n);
  },
  'network.destroy': async (d, { conn }) => {
    const n = await conn.network(d.network);
    await n.destroy();
    return networkSummary(n);
  },
  'network.undefine': async (d, { conn }) => {
    const n = await conn.network(d.network);
    const r = { uuid: n.uuid, name: n.name };
    await n.undefine();
    return r;
  },
};
