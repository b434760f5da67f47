// The v1 commands job.*: long-running commands, looked up and cancelled by command id. Part of the contract source (commands.ts).
import { Type as T } from '@sinclair/typebox';
import { type CommandSpec, cmd } from './command-spec';
import { JobInfo, JobState } from './shapes';

export const JOB_COMMANDS = {
  'job.get': cmd(
    'a job by its command id',
    T.Object({ id: T.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
    JobInfo,
    false,
  ),
  'job.list': cmd(
    'jobs of this node',
    T.Object({ state: T.Optional(JobState) }, { additionalProperties: false }),
    T.Object({ jobs: T.Array(JobInfo) }),
    false,
  ),
  'job.cancel': cmd(
    'cancel a job by its command id',
    T.Object({ id: T.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
    JobInfo,
    true,
  ),
} satisfies Record<string, CommandSpec>;
