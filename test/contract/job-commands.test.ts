// The contract's `job` flag (what the SDK and CLI treat as long-running)
// agrees with the job kinds the agent runs (src/jobs/kinds/).
import { COMMANDS, isCommandName, isJobCommand } from '../../src/contract/commands';
import { JOB_KINDS, isJobOnlyCommand } from '../../src/jobs/kinds';

test('every command a job kind serves is flagged; always-jobs as always, the others as sometimes', () => {
  const served = new Set(JOB_KINDS.flatMap((k) => [...k.commands]));
  for (const name of Object.keys(COMMANDS)) {
    if (!isCommandName(name)) continue;
    const flag = (COMMANDS[name] as { job?: string }).job;
    if (!served.has(name)) {
      expect([name, flag]).toEqual([name, undefined]);
      continue;
    }
    expect([name, flag]).toEqual([name, isJobOnlyCommand(name) ? 'always' : 'sometimes']);
    expect(isJobCommand(name)).toBe(true);
  }
  expect(isJobCommand('domain.start')).toBe(false);
  expect(isJobCommand('constructor')).toBe(false);
});
