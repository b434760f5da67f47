// Load shapes: sequential round trips (latency) and a fixed number of
// requests in flight (throughput). Subjects compared with each other run in
// alternating rounds, so a neighbour's load on a shared machine (a CI run)
// falls on the agent and its baseline alike.
import { isAborting } from './cleanup';
import { sleep } from './proc';
import { msSince } from './stats';

export type Send = () => Promise<unknown>;

export interface Throughput {
  ops: number;
  failures: number;
  seconds: number;
  perS: number;
  firstError?: string;
}

/**
 * What a sequential subject sends, and what it does before each timed send,
 * untimed (e.g. idle for as long as the agent's calls idle between commands).
 */
export interface Subject {
  send: Send;
  before?: () => Promise<unknown>;
}

/** n sequential round trips (after `warmup` unmeasured ones); ms each. */
export async function sequential(subject: Send | Subject, n: number, warmup = 20): Promise<number[]> {
  const { send, before } = typeof subject === 'function' ? { send: subject, before: undefined } : subject;
  for (let i = 0; i < warmup && !isAborting(); i++) await send();
  const out: number[] = [];
  for (let i = 0; i < n && !isAborting(); i++) {
    if (before) await before();
    const t = process.hrtime.bigint();
    await send();
    out.push(msSince(t));
  }
  return out;
}

/** n sequential round trips per subject, in `rounds` alternating blocks. */
export async function sequentialRounds(
  subjects: Record<string, Send | Subject>,
  n: number,
  rounds = 4,
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const k of Object.keys(subjects)) out[k] = [];
  const per = Math.ceil(n / rounds);
  for (let r = 0; r < rounds; r++)
    for (const [k, send] of Object.entries(subjects)) out[k].push(...(await sequential(send, per, r === 0 ? 50 : 5)));
  return out;
}

/** Keeps `inFlight` requests outstanding; counts completions during durationMs after warmupMs. */
export async function pipelined(send: Send, inFlight: number, durationMs: number, warmupMs = 300): Promise<Throughput> {
  let measuring = false;
  let stop = false;
  let ops = 0;
  let failures = 0;
  let firstError: string | undefined;
  let t0 = process.hrtime.bigint();
  let seconds = 0;
  const worker = async () => {
    while (!stop && !isAborting()) {
      try {
        await send();
        if (measuring) ops++;
      } catch (e) {
        if (measuring) failures++;
        firstError ??= (e as Error).message;
        await sleep(1); // a closed connection fails at once: do not spin without letting timers run
      }
    }
  };
  const workers = Array.from({ length: inFlight }, worker);
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  seconds = msSince(t0) / 1000;
  stop = true;
  await Promise.all(workers);
  return { ops, failures, seconds, perS: ops / seconds, ...(firstError && { firstError }) };
}

/** pipelined() per subject in alternating rounds; the rounds' counts are added up. */
export async function pipelinedRounds(
  subjects: Record<string, Send>,
  inFlight: number,
  durationMs: number,
  rounds = 2,
): Promise<Record<string, Throughput>> {
  const out: Record<string, Throughput> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [k, send] of Object.entries(subjects)) {
      const t = await pipelined(send, inFlight, durationMs / rounds);
      const acc = out[k];
      out[k] = acc
        ? {
            ops: acc.ops + t.ops,
            failures: acc.failures + t.failures,
            seconds: acc.seconds + t.seconds,
            perS: (acc.ops + t.ops) / (acc.seconds + t.seconds),
            ...((acc.firstError ?? t.firstError) && { firstError: acc.firstError ?? t.firstError }),
          }
        : t;
    }
  }
  return out;
}
