// domain.snapshot.create, with libvirt's job statistics as progress. recover()
// accepts a snapshot of the requested name that exists; an unnamed one cannot
// be told apart after a crash.
import type { CommandData, CommandResult } from '../../contract/commands';
import { esc } from '../../libvirt/xml';
import type { JobRunner } from '../types';
import { jobKind } from './kind';
import { notAgain, withDomainProgress } from './progress';

export const snapshotCreate = jobKind<CommandData<'domain.snapshot.create'>>({
  name: 'domain.snapshot.create',
  commands: ['domain.snapshot.create'],
  runner: (d): JobRunner<CommandData<'domain.snapshot.create'>, CommandResult<'domain.snapshot.create'>> => ({
    async run(ctx) {
      const dom = await d.connection().domain(ctx.data.domain);
      const name =
        ctx.data.snapshot ??
        `snap-${new Date()
          .toISOString()
          .replace(/[^0-9]/g, '')
          .slice(0, 14)}`;
      const xml = `<domainsnapshot><name>${esc(name)}</name>${ctx.data.description ? `<description>${esc(ctx.data.description)}</description>` : ''}</domainsnapshot>`;
      const snap = await withDomainProgress(dom, ctx, d.pollIntervalMs ?? 1000, dom.createSnapshot(xml));
      return { uuid: dom.uuid, name: dom.name, snapshot: snap.name };
    },
    async recover(ctx) {
      const dom = await d.connection().domain(ctx.data.domain);
      if (ctx.data.snapshot) {
        const exists = await dom.snapshot(ctx.data.snapshot).then(
          () => true,
          () => false,
        );
        if (exists) return { uuid: dom.uuid, name: dom.name, snapshot: ctx.data.snapshot };
      }
      throw notAgain(`creating a snapshot of '${ctx.data.domain}'`);
    },
  }),
});
