// domain.snapshot.delete; recover() accepts a snapshot that is gone.
import type { CommandData, CommandResult } from '../../contract/commands';
import { isLibvirtError } from '../../libvirt';
import type { JobRunner } from '../types';
import { jobKind } from './kind';
import { notAgain } from './progress';

export const snapshotDelete = jobKind<CommandData<'domain.snapshot.delete'>>({
  name: 'domain.snapshot.delete',
  commands: ['domain.snapshot.delete'],
  runner: (d): JobRunner<CommandData<'domain.snapshot.delete'>, CommandResult<'domain.snapshot.delete'>> => ({
    async run(ctx) {
      const dom = await d.connection().domain(ctx.data.domain);
      await (await dom.snapshot(ctx.data.snapshot)).delete({ children: ctx.data.children });
      return { snapshot: ctx.data.snapshot };
    },
    async recover(ctx) {
      const dom = await d.connection().domain(ctx.data.domain);
      const gone = await dom.snapshot(ctx.data.snapshot).then(
        () => false,
        (e) => isLibvirtError(e, 'VIR_ERR_NO_DOMAIN_SNAPSHOT'),
      );
      if (gone) return { snapshot: ctx.data.snapshot };
      throw notAgain(`deleting snapshot '${ctx.data.snapshot}'`);
    },
  }),
});
