// The long-running commands other than migration, as job runners: save,
// restore, snapshot create/revert/delete and volume clone. Each reports
// progress where libvirt offers it and never runs twice: after an agent
// restart, recover() decides from the world (no re-execution).
import { isAbsolute, join, normalize, relative } from 'node:path';
import type { CommandData, CommandResult } from '../contract/commands';
import { CommandError } from '../errors';
import { isLibvirtError, type Connection, type Domain, type StoragePool, type StorageVolume } from '../libvirt';
import type { JobContext, JobRunner } from '../jobs';
import { esc, volumeXml } from './xml';

export interface LongRunningDeps {
  connection: () => Connection;
  /** save/restore files must be inside this directory */
  saveDir: string;
  /** how often progress is sampled (ms, default 1000) */
  pollIntervalMs?: number;
}

/** A path given by a command, inside saveDir (relative names are taken from it); else FORBIDDEN. */
export function savePath(saveDir: string, p: string): string {
  const full = normalize(isAbsolute(p) ? p : join(saveDir, p));
  const rel = relative(normalize(saveDir), full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new CommandError('FORBIDDEN', `path '${p}' is outside the agent's save directory ${saveDir}`);
  }
  return full;
}

/** Calls sample every everyMs until work settles (a failed sample is skipped); resolves as work does. */
async function sampleWhile<T>(work: Promise<T>, everyMs: number, sample: () => Promise<void>): Promise<T> {
  let done = false;
  const settled = work.finally(() => { done = true; });
  while (!done) {
    await Promise.race([settled.catch(() => undefined), new Promise((r) => setTimeout(r, everyMs))]);
    if (!done) await sample().catch(() => undefined);
  }
  return settled;
}

/** A volume being written: its allocation, sampled, is the progress (libvirt reports none). */
async function volumeGrowth(ctx: JobContext, pool: StoragePool, name: string, bytesTotal: number, phase: string,
  everyMs: number, work: Promise<StorageVolume>): Promise<CommandResult<'vol.create'>> {
  const vol = await sampleWhile(work, everyMs, async () => {
    const v = await (await pool.volume(name)).info();
    await ctx.progress({ phase, bytesTotal, bytesAllocated: v.allocation });
  });
  await ctx.progress({ phase: 'done', bytesTotal, bytesAllocated: (await vol.info()).allocation });
  return { name: vol.name, key: vol.key, path: await vol.path() };
}

/** Samples libvirt's job statistics of a domain while work runs, as progress. */
async function withDomainProgress<T>(dom: Domain, ctx: JobContext, everyMs: number, work: Promise<T>): Promise<T> {
  const onCancel = () => { void dom.abortJob().catch(() => undefined); };
  ctx.signal.addEventListener('abort', onCancel, { once: true });
  try {
    return await sampleWhile(work, everyMs, async () => {
      const s = await dom.jobStats();
      if (s.type === 'none') return;
      const p = s.params;
      await ctx.progress({ phase: s.type, dataTotal: p.data_total, dataProcessed: p.data_processed, dataRemaining: p.data_remaining, elapsedMs: p.time_elapsed });
    });
  } catch (e) {
    if (ctx.signal.aborted && isLibvirtError(e, 'VIR_ERR_OPERATION_ABORTED')) throw new CommandError('CANCELLED', `job ${ctx.id} was cancelled`);
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', onCancel);
  }
}

const notAgain = (what: string) => new CommandError('INTERNAL',
  `the agent stopped while ${what} was running; it is not run again — check the object's state, then send a new command id`);

export function longRunningRunners(d: LongRunningDeps): Record<string, JobRunner> {
  const every = d.pollIntervalMs ?? 1000;
  const conn = () => d.connection();

  const save: JobRunner<CommandData<'domain.save'>, CommandResult<'domain.save'>> = {
    async run(ctx) {
      const path = savePath(d.saveDir, ctx.data.path);
      const dom = await conn().domain(ctx.data.domain);
      await withDomainProgress(dom, ctx, every, dom.save(path, { bypassCache: ctx.data.bypassCache }));
      return { uuid: dom.uuid, name: dom.name, path };
    },
    // A save that finished leaves the domain shut off (reason saved).
    async recover(ctx) {
      const dom = await conn().domain(ctx.data.domain);
      const s = await dom.state();
      if (s.state === 'shutoff' && s.reason === 'saved') return { uuid: dom.uuid, name: dom.name, path: savePath(d.saveDir, ctx.data.path) };
      throw notAgain(`saving '${ctx.data.domain}' (now ${s.state}/${s.reason})`);
    },
  };

  const restore: JobRunner<CommandData<'domain.restore'>, CommandResult<'domain.restore'>> = {
    async run(ctx) {
      const path = savePath(d.saveDir, ctx.data.path);
      const c = conn();
      const before = new Set((await c.listDomains('active')).map((x) => x.uuid));
      await c.restoreDomain(path, { paused: ctx.data.paused });
      const after = (await c.listDomains('active')).find((x) => !before.has(x.uuid));
      if (!after) throw new CommandError('INTERNAL', `restored ${path} but cannot tell which domain it became`);
      return { uuid: after.uuid, name: after.name, state: (await after.state()).state };
    },
  };

  const snapshotCreate: JobRunner<CommandData<'domain.snapshot.create'>, CommandResult<'domain.snapshot.create'>> = {
    async run(ctx) {
      const dom = await conn().domain(ctx.data.domain);
      const name = ctx.data.snapshot ?? `snap-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}`;
      const xml = `<domainsnapshot><name>${esc(name)}</name>${ctx.data.description ? `<description>${esc(ctx.data.description)}</description>` : ''}</domainsnapshot>`;
      const snap = await withDomainProgress(dom, ctx, every, dom.createSnapshot(xml));
      return { uuid: dom.uuid, name: dom.name, snapshot: snap.name };
    },
    async recover(ctx) {
      const dom = await conn().domain(ctx.data.domain);
      if (ctx.data.snapshot) {
        const exists = await dom.snapshot(ctx.data.snapshot).then(() => true, () => false);
        if (exists) return { uuid: dom.uuid, name: dom.name, snapshot: ctx.data.snapshot };
      }
      throw notAgain(`creating a snapshot of '${ctx.data.domain}'`);
    },
  };

  const snapshotRevert: JobRunner<CommandData<'domain.snapshot.revert'>, CommandResult<'domain.snapshot.revert'>> = {
    async run(ctx) {
      const dom = await conn().domain(ctx.data.domain);
      const snap = await dom.snapshot(ctx.data.snapshot);
      await snap.revert({ running: ctx.data.running, paused: ctx.data.paused });
      return { uuid: dom.uuid, name: dom.name, snapshot: snap.name, state: (await dom.state()).state };
    },
  };

  const snapshotDelete: JobRunner<CommandData<'domain.snapshot.delete'>, CommandResult<'domain.snapshot.delete'>> = {
    async run(ctx) {
      const dom = await conn().domain(ctx.data.domain);
      await (await dom.snapshot(ctx.data.snapshot)).delete({ children: ctx.data.children });
      return { snapshot: ctx.data.snapshot };
    },
    async recover(ctx) {
      const dom = await conn().domain(ctx.data.domain);
      const gone = await dom.snapshot(ctx.data.snapshot).then(() => false, (e) => isLibvirtError(e, 'VIR_ERR_NO_DOMAIN_SNAPSHOT'));
      if (gone) return { snapshot: ctx.data.snapshot };
      throw notAgain(`deleting snapshot '${ctx.data.snapshot}'`);
    },
  };

  const volClone: JobRunner<CommandData<'vol.clone'>, CommandResult<'vol.clone'>> = {
    async run(ctx) {
      const pool = await conn().storagePool(ctx.data.pool);
      const src = await pool.volume(ctx.data.volume);
      const [info, xml] = await Promise.all([src.info(), src.xml()]);
      const format = xml.match(/<target>[\s\S]*?<format type=['"]([^'"]+)['"]/)?.[1];
      const target = `<volume><name>${esc(ctx.data.name)}</name><capacity unit='bytes'>${info.capacity}</capacity>` +
        `${format ? `<target><format type='${esc(format)}'/></target>` : ''}</volume>`;
      return volumeGrowth(ctx, pool, ctx.data.name, info.capacity, 'copying', every, pool.cloneVolume(target, src));
    },
  };

  // vol.create of a large preallocated volume: writing the allocation takes
  // time, so it runs as a job and reports the allocation as it grows
  const volCreateLarge: JobRunner<{ pool: string; name: string; capacityBytes: number; allocationBytes: number; format?: string }, CommandResult<'vol.create'>> = {
    async run(ctx) {
      const pool = await conn().storagePool(ctx.data.pool);
      return volumeGrowth(ctx, pool, ctx.data.name, ctx.data.allocationBytes, 'allocating', every, pool.createVolume(volumeXml(ctx.data)));
    },
    async recover(ctx) {
      const pool = await conn().storagePool(ctx.data.pool);
      const vol = await pool.volume(ctx.data.name).catch(() => undefined);
      if (vol && (await vol.info()).allocation >= ctx.data.allocationBytes) return { name: vol.name, key: vol.key, path: await vol.path() };
      throw notAgain(`creating volume '${ctx.data.name}'`);
    },
  };

  return {
    'vol.create.large': volCreateLarge as JobRunner,
    'domain.save': save as JobRunner, 'domain.restore': restore as JobRunner,
    'domain.snapshot.create': snapshotCreate as JobRunner, 'domain.snapshot.revert': snapshotRevert as JobRunner,
    'domain.snapshot.delete': snapshotDelete as JobRunner, 'vol.clone': volClone as JobRunner,
  };
}

/** domain.snapshot.list is quick: a plain handler. */
export async function listSnapshots(c: Connection, domain: string): Promise<CommandResult<'domain.snapshot.list'>> {
  const dom = await c.domain(domain);
  const snaps = await dom.snapshots();
  return {
    snapshots: await Promise.all(snaps.map(async (s) => {
      const xml = await s.xml();
      const t = xml.match(/<creationTime>(\d+)<\/creationTime>/)?.[1];
      const state = xml.match(/<state>([^<]+)<\/state>/)?.[1];
      return { name: s.name, ...(state && { state }), ...(t && { creationTime: new Date(Number(t) * 1000).toISOString() }) };
    })),
  };
}
