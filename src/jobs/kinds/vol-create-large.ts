// vol.create of a large preallocated volume: writing the allocation takes
// time, so it runs as a job and reports the allocation as it grows. A small
// one is an ordinary command (src/commands/storage.ts).
import type { CommandResult } from '../../contract/commands';
import { volumeXml } from '../../libvirt/xml';
import type { JobRunner } from '../types';
import { jobKind } from './kind';
import { notAgain, volumeGrowth } from './progress';

/** vol.create preallocating at least this much runs as a job */
export const LARGE_VOLUME_BYTES = 1024 * 1024 * 1024;

/** the vol.create form this kind serves: name and capacity, with a large allocation */
type LargeVolume = {
  pool: string;
  name: string;
  capacityBytes: number;
  allocationBytes: number;
  format?: 'raw' | 'qcow2';
};

export const volCreateLarge = jobKind<LargeVolume>({
  name: 'vol.create.large',
  commands: ['vol.create'],
  when: (data) =>
    typeof data?.allocationBytes === 'number' &&
    data.allocationBytes >= LARGE_VOLUME_BYTES &&
    typeof data.name === 'string',
  runner: (d): JobRunner<LargeVolume, CommandResult<'vol.create'>> => ({
    async run(ctx) {
      const pool = await d.connection().storagePool(ctx.data.pool);
      return volumeGrowth(
        ctx,
        pool,
        ctx.data.name,
        ctx.data.allocationBytes,
        'allocating',
        d.pollIntervalMs ?? 1000,
        pool.createVolume(volumeXml(ctx.data)),
      );
    },
    async recover(ctx) {
      const pool = await d.connection().storagePool(ctx.data.pool);
      const vol = await pool.volume(ctx.data.name).catch(() => undefined);
      if (vol && (await vol.info()).allocation >= ctx.data.allocationBytes)
        return { name: vol.name, key: vol.key, path: await vol.path() };
      throw notAgain(`creating volume '${ctx.data.name}'`);
    },
  }),
});
