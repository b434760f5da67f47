// domain.snapshot.revert. No recover(): a revert cut short leaves nothing to tell by.
import type { CommandData, CommandResult } from '../../contract/commands';
import type { JobRunner } from '../types';
import { jobKind } from './kind';

export const snapshotRevert = jobKind<CommandData<'domain.snapshot.revert'>>({
  name: 'domain.snapshot.revert',
  commands: ['domain.snapshot.revert'],
  runner: (d): JobRunner<CommandData<'domain.snapshot.revert'>, CommandResult<'domain.snapshot.revert'>> => ({
    async run(ctx) {
      const dom = await d.connection().domain(ctx.data.domain);
      const snap = await dom.snapshot(ctx.data.snapshot);
      await snap.revert({ running: ctx.data.running, paused: ctx.data.paused });
      return { uuid: dom.uuid, name: dom.name, snapshot: snap.name, state: (await dom.state()).state };
    },
  }),
});
