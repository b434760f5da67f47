// vol.clone: a copy of a volume in the same pool, in the source's format;
// the copy's growing allocation is the progress.
import type { CommandData, CommandResult } from '../../contract/commands';
import { esc } from '../../libvirt/xml';
import type { JobRunner } from '../types';
import { jobKind } from './kind';
import { volumeGrowth } from './progress';

export const volClone = jobKind<CommandData<'vol.clone'>>({
  name: 'vol.clone',
  commands: ['vol.clone'],
  runner: (d): JobRunner<CommandData<'vol.clone'>, CommandResult<'vol.clone'>> => ({
    async run(ctx) {
      const pool = await d.connection().storagePool(ctx.data.pool);
      const src = await pool.volume(ctx.data.volume);
      const [info, xml] = await Promise.all([src.info(), src.xml()]);
      const format = xml.match(/<target>[\s\S]*?<format type=['"]([^'"]+)['"]/)?.[1];
      const target =
        `<volume><name>${esc(ctx.data.name)}</name><capacity unit='bytes'>${info.capacity}</capacity>` +
        `${format ? `<target><format type='${esc(format)}'/></target>` : ''}</volume>`;
      return volumeGrowth(
        ctx,
        pool,
        ctx.data.name,
        info.capacity,
        'copying',
        d.pollIntervalMs ?? 1000,
        pool.cloneVolume(target, src),
      );
    },
  }),
});
