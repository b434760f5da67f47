import type { CommandResult } from '../contract/commands';
import type { StoragePool, StorageVolume } from '../libvirt';
import type { HandlerTable } from './context';
import { volumeXml } from '../libvirt/xml';

async function poolSummary(p: StoragePool): Promise<CommandResult<'pool.get'>> {
  const [info, persistent, autostart] = await Promise.all([
    p.info(),
    p.isPersistent(),
    p.autostart().catch(() => false),
  ]);
  return {
    uuid: p.uuid,
    name: p.name,
    state: info.state,
    capacity: info.capacity,
    allocation: info.allocation,
    available: info.available,
    persistent,
    autostart,
  };
}

async function volumeSummary(v: StorageVolume): Promise<CommandResult<'vol.get'>> {
  const [info, path, xml] = await Promise.all([v.info(), v.path(), v.xml()]);
  const format = xml.match(/<target>[\s\S]*?<format type=['"]([^'"]+)['"]/)?.[1];
  return {
    name: v.name,
    key: v.key,
    path,
    capacity: info.capacity,
    allocation: info.allocation,
    type: info.type,
    ...(format && { format }),
  };
}

export const storageHandlers: HandlerTable = {
  'pool.list': async (_d, { conn }) => ({ pools: await Promise.all((await conn.listStoragePools()).map(poolSummary)) }),
  'pool.get': async (d, { conn }) => poolSummary(await conn.storagePool(d.pool)),
  'pool.define': async (d, { conn }) => {
    const p = await conn.defineStoragePool(d.xml);
    return { uuid: p.uuid, name: p.name };
  },
  'pool.start': async (d, { conn }) => {
    const p = await conn.storagePool(d.pool);
    await p.start();
    return poolSummary(p);
  },
  'pool.build': async (d, { conn }) => {
    const p = await conn.storagePool(d.pool);
    await p.build();
    return poolSummary(p);
  },
  'pool.refresh': async (d, { conn }) => {
    const p = await conn.storagePool(d.pool);
    await p.refresh();
    return poolSummary(p);
  },
  'pool.destroy': async (d, { conn }) => {
    const p = await conn.storagePool(d.pool);
    await p.destroy();
    return poolSummary(p);
  },
  'pool.undefine': async (d, { conn }) => {
    const p = await conn.storagePool(d.pool);
    const r = { uuid: p.uuid, name: p.name };
    await p.undefine();
    return r;
  },
  'vol.list': async (d, { conn }) => ({
    volumes: await Promise.all((await (await conn.storagePool(d.pool)).volumes()).map(volumeSummary)),
  }),
  'vol.get': async (d, { conn }) => volumeSummary(await (await conn.storagePool(d.pool)).volume(d.volume)),
  'vol.create': async (d, { conn }) => {
    const pool = await conn.storagePool(d.pool);
    const xml = 'xml' in d ? d.xml : volumeXml(d);
    const v = await pool.createVolume(xml);
    return { name: v.name, key: v.key, path: await v.path() };
  },
  'vol.delete': async (d, { conn }) => {
    const v = await (await conn.storagePool(d.pool)).volume(d.volume);
    await v.delete();
    return { name: d.volume };
  },
  'vol.resize': async (d, { conn }) => {
    const v = await (await conn.storagePool(d.pool)).volume(d.volume);
    await v.resize(d.capacityBytes, { shrink: d.shrink });
    return volumeSummary(v);
  },
};
