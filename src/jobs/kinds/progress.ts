// Progress where libvirt reports none or reports it only when asked: sample
// while the work runs. Shared by the kinds that save, snapshot and copy.
import type { CommandResult } from '../../contract/commands';
import { CommandError } from '../../errors';
import { isLibvirtError, type Domain, type StoragePool, type StorageVolume } from '../../libvirt';
import type { JobContext } from '../types';

/** Calls sample every everyMs until work settles (a failed sample is skipped); resolves as work does. */
export async function sampleWhile<T>(work: Promise<T>, everyMs: number, sample: () => Promise<void>): Promise<T> {
  let done = false;
  const settled = work.finally(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([settled.catch(() => undefined), new Promise((r) => setTimeout(r, everyMs))]);
    if (!done) await sample().catch(() => undefined);
  }
  return settled;
}

/** A volume being written: its allocation, sampled, is the progress (libvirt reports none). */
export async function volumeGrowth(
  ctx: JobContext,
  pool: StoragePool,
  name: string,
  bytesTotal: number,
  phase: string,
  everyMs: number,
  work: Promise<StorageVolume>,
): Promise<CommandResult<'vol.create'>> {
  const vol = await sampleWhile(work, everyMs, async () => {
    const v = await (await pool.volume(name)).info();
    await ctx.progress({ phase, bytesTotal, bytesAllocated: v.allocation });
  });
  await ctx.progress({ phase: 'done', bytesTotal, bytesAllocated: (await vol.info()).allocation });
  return { name: vol.name, key: vol.key, path: await vol.path() };
}

/** Samples libvirt's job statistics of a domain while work runs, as progress. */
export async function withDomainProgress<T>(
  dom: Domain,
  ctx: JobContext,
  everyMs: number,
  work: Promise<T>,
): Promise<T> {
  const onCancel = () => {
    void dom.abortJob().catch(() => undefined);
  };
  ctx.signal.addEventListener('abort', onCancel, { once: true });
  try {
    return await sampleWhile(work, everyMs, async () => {
      const s = await dom.jobStats();
      if (s.type === 'none') return;
      const p = s.params;
      await ctx.progress({
        phase: s.type,
        dataTotal: p.data_total,
        dataProcessed: p.data_processed,
        dataRemaining: p.data_remaining,
        elapsedMs: p.time_elapsed,
      });
    });
  } catch (e) {
    if (ctx.signal.aborted && isLibvirtError(e, 'VIR_ERR_OPERATION_ABORTED'))
      throw new CommandError('CANCELLED', `job ${ctx.id} was cancelled`);
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', onCancel);
  }
}

export const notAgain = (what: string) =>
  new CommandError(
    'INTERNAL',
    `the agent stopped while ${what} was running; it is not run again — check the object's state, then send a new command id`,
  );
