#!/usr/bin/env node
// virtbus: the command-line client. Sends one command to a node and prints
// the reply (a table for people, --json for programs), follows jobs, watches
// events. Everything it does is in src/cli/ (run.ts); `virtbus help` lists it.
//   virtbus domain.list
//   virtbus domain.suspend domain=test
//   virtbus domain.migrate domain=web to=node2
//   virtbus help domain.migrate
import { runCli } from '../src/cli/run';

// The first Ctrl-C (or SIGTERM) ends a watch or leaves a job to the agent, cleanly; a second one exits at once.
let signals = 0;
const interrupted = new Promise<void>((resolve) => {
  const on = () => {
    if (++signals > 1) process.exit(130);
    resolve();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin,
  env: process.env,
  interrupted,
}).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`virtbus: ${String(e)}\n`);
    process.exit(2);
  },
);
