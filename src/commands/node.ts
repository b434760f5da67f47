import type { HandlerTable } from './context';

export const nodeHandlers: HandlerTable = {
  'node.info': async (_d, { conn }) => {
    const [hostname, uri, lib, type, hv, info, free] = await Promise.all([
      conn.hostname(),
      conn.canonicalUri(),
      conn.libVersion(),
      conn.hypervisorType(),
      conn.hypervisorVersion(),
      conn.nodeInfo(),
      conn.freeMemory(),
    ]);
    return {
      hostname,
      uri,
      libvirtVersion: lib.string,
      hypervisor: { type, version: hv.string },
      cpu: {
        model: info.model,
        count: info.cpus,
        mhz: info.mhz,
        sockets: info.sockets,
        cores: info.cores,
        threads: info.threads,
        numaNodes: info.nodes,
      },
      memoryKiB: info.memoryKiB,
      freeMemoryKiB: Math.floor(free / 1024),
    };
  },
  'node.capabilities': async (_d, { conn }) => ({ xml: await conn.capabilities() }),
  'node.stats': async (_d, { conn }) => {
    const [cpu, memory] = await Promise.all([conn.nodeCpuStats(), conn.nodeMemoryStats()]);
    return { cpu, memory };
  },
};
