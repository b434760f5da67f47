// domain.restore: a saved file (inside the save directory) back into a running
// guest. No recover(): after a crash the agent cannot tell a half-done restore
// from a finished one, so such a job fails saying so (it is never run twice).
import type { CommandData, CommandResult } from '../../contract/commands';
import { CommandError } from '../../errors';
import type { JobRunner } from '../types';
import { jobKind } from './kind';
import { savePath } from './save-dir';

export const domainRestore = jobKind<CommandData<'domain.restore'>>({
  name: 'domain.restore',
  commands: ['domain.restore'],
  runner: (d): JobRunner<CommandData<'domain.restore'>, CommandResult<'domain.restore'>> => ({
    async run(ctx) {
      const path = savePath(d.saveDir, ctx.data.path);
      const c = d.connection();
      const before = new Set((await c.listDomains('active')).map((x) => x.uuid));
      await c.restoreDomain(path, { paused: ctx.data.paused });
      const after = (await c.listDomains('active')).find((x) => !before.has(x.uuid));
      if (!after) throw new CommandError('INTERNAL', `restored ${path} but cannot tell which domain it became`);
      return { uuid: after.uuid, name: after.name, state: (await after.state()).state };
    },
  }),
});
