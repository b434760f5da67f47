import type { HandlerTable } from './context';

export const agentHandlers: HandlerTable = {
  'agent.ping': async (_d, { agent }) => ({
    node: agent.node,
    bootId: agent.bootId,
    version: agent.version,
    ...(agent.libvirtUri && { libvirtUri: agent.libvirtUri }),
    ...(agent.migrateUri && { migrateUri: agent.migrateUri }),
  }),
  'agent.status': async (_d, { agent }) => agent.status() as never,
};
