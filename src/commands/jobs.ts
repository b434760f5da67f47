import { CommandError } from '../errors';
import { jobInfo } from '../jobs/outcome';
import type { JobBackend, JobState } from '../jobs/types';
import type { HandlerTable } from './context';

function need(jobs: JobBackend | undefined): JobBackend {
  if (!jobs) throw new CommandError('UNSUPPORTED', 'this agent runs without a job system');
  return jobs;
}

export const jobHandlers: HandlerTable = {
  'job.get': async (d, { jobs }) => {
    const r = await need(jobs).get(d.id);
    if (!r) throw new CommandError('NOT_FOUND', `no job with command id '${d.id}'`);
    return jobInfo(r) as never;
  },
  'job.list': async (d, { jobs }) => ({
    jobs: (await need(jobs).list(d.state ? { states: [d.state as JobState] } : undefined)).map(jobInfo) as never,
  }),
  'job.cancel': async (d, { jobs }) => {
    const r = await need(jobs).cancel(d.id);
    if (!r) throw new CommandError('NOT_FOUND', `no job with command id '${d.id}'`);
    return jobInfo(r) as never;
  },
};
