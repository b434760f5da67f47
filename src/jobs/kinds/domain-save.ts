// domain.save: the guest's memory to a file inside the save directory, with
// libvirt's job statistics as progress. A save that finished leaves the
// domain shut off (reason saved): that is how recover() knows.
import type { CommandData, CommandResult } from '../../contract/commands';
import type { JobRunner } from '../types';
import { jobKind } from './kind';
import { notAgain, withDomainProgress } from './progress';
import { savePath } from './save-dir';

export const domainSave = jobKind<CommandData<'domain.save'>>({
  name: 'domain.save',
  commands: ['domain.save'],
  runner: (d): JobRunner<CommandData<'domain.save'>, CommandResult<'domain.save'>> => ({
    async run(ctx) {
      const path = savePath(d.saveDir, ctx.data.path);
      const dom = await d.connection().domain(ctx.data.domain);
      await withDomainProgress(
        dom,
        ctx,
        d.pollIntervalMs ?? 1000,
        dom.save(path, { bypassCache: ctx.data.bypassCache }),
      );
      return { uuid: dom.uuid, name: dom.name, path };
    },
    async recover(ctx) {
      const dom = await d.connection().domain(ctx.data.domain);
      const s = await dom.state();
      if (s.state === 'shutoff' && s.reason === 'saved')
        return { uuid: dom.uuid, name: dom.name, path: savePath(d.saveDir, ctx.data.path) };
      throw notAgain(`saving '${ctx.data.domain}' (now ${s.state}/${s.reason})`);
    },
  }),
});
