// One fuzz run against a real agent process on one transport: start the
// agent, send the generated cases with a bounded number outstanding, match
// what comes back, then the checks after the storm (a valid command within
// 1 s, RSS, agent status) and after a restart (nothing poisonous left).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuzzAgent, StartError } from './agent';
import type { Answer, Bus } from './buses';
import { describeCase, generateCase, selfCheck, type FuzzCase } from './generator';
import { Rng } from './rng';

/** Log lines that say the agent lost its broker connection or gave up on a message the broker refused. */
export const CONNECTION_LOSS_LOG = ['bus connection lost', 'message dropped: the broker refused it for good'];

export const CONTRACT_CODES = new Set(
  Object.keys((require('../../../contracts/errors.json') as { codes: Record<string, string> }).codes),
);

export interface FuzzOptions {
  count: number;
  fixedSeed: number;
  randomSeed: number;
  only?: Set<string>;
  exclude?: Set<string>;
  maxMessageBytes: number;
  /** cases sent but not yet answered, at most */
  window: number;
  /** a keyed case unanswered this long stops holding a window slot (it still counts as missing unless answered later) */
  caseTimeoutMs: number;
  /** no answer at all for this long while cases are outstanding: stall (recorded; sending goes on, at most maxStalls times) */
  stallMs: number;
  maxStalls: number;
  /** after the last send: wait until all is answered, or nothing came for quietMs, or the overall deadline */
  quietMs: number;
  overallMs: number;
  /** how long to listen for old commands coming back after the restart */
  afterRestartMs: number;
}

export interface Failure {
  check: string;
  cls: string;
  tag?: string;
  detail: string;
}

interface State {
  c: FuzzCase;
  description: string;
  sentAt: number;
  answers: Answer[];
  timedOut: boolean;
}

export interface FuzzReport {
  transport: string;
  node: string;
  seeds: { fixed: number; random: number };
  generated: number;
  sent: number;
  durations: { sendMs: number; settleMs: number; totalMs: number; restartMs?: number };
  expected: Record<string, number>;
  answers: {
    replies: number;
    completions: number;
    deadLetters: number;
    byCode: Record<string, number>;
    unmatchedReplies: number;
    unmatchedCompletions: number;
    late: number;
  };
  missing: { firm: number; soft: number; byClass: Record<string, number> };
  stalls: Array<{ atSent: number; outstanding: number; oldest: string[]; lastSent: string[] }>;
  /** AMQP cases whose reply_to is a direct reply-to name the broker never issued (suspects when the connection drops) */
  directReplyTo: string[];
  /** the agent process ended during the run: after which cases */
  agentDied?: { code: number | null | undefined; atSent: number; lastSent: string[] };
  /** failures of the answer checks (wrong or missing answers) */
  failures: Failure[];
  pingAfterMs?: number;
  pingAfterError?: string;
  memory: { beforeKiB?: number; afterKiB?: number; peakKiB?: number };
  agentStatus?: unknown;
  agentLog: {
    errors: number;
    counts: Record<string, number>;
    firstErrors: unknown[];
    warnings: Record<string, { n: number; first: unknown[] }>;
  };
  agentExit?: number | null;
  restart?: {
    exitCode?: number | null;
    queueDepth?: number;
    pingMs?: number;
    pingError?: string;
    redelivered: Answer[];
    redeliveredCases: string[];
    secondExit?: number | null;
  };
  harnessProblems: string[];
}

const INTERESTING_LOG = [
  ...CONNECTION_LOSS_LOG,
  'command intake failed',
  'command not answered',
  'uncaught exception',
  'unhandled rejection',
  'bus connection lost',
  'event not published',
  'AMQP: publish failed mid-frame; replacing the connection',
  'shutdown step failed',
];

export async function runFuzz(bus: Bus, o: FuzzOptions): Promise<FuzzReport> {
  selfCheck();
  const t0 = Date.now();
  const node = `fz-${bus.profile}-${process.pid}-${Date.now().toString(36)}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'virtbus-fuzz-'));
  const args = [
    '--node-id',
    node,
    ...bus.agentArgs(node),
    '--libvirt-uri',
    'test:///default',
    '--max-message-bytes',
    String(o.maxMessageBytes),
    '--log-level',
    'info',
    '--heartbeat',
    '0',
    '--state-dir',
    stateDir,
    '--drain',
    '5',
    '--command-timeout',
    '20',
  ];
  const report: FuzzReport = {
    transport: bus.name,
    node,
    seeds: { fixed: o.fixedSeed, random: o.randomSeed },
    generated: 0,
    sent: 0,
    durations: { sendMs: 0, settleMs: 0, totalMs: 0 },
    expected: {},
    answers: {
      replies: 0,
      completions: 0,
      deadLetters: 0,
      byCode: {},
      unmatchedReplies: 0,
      unmatchedCompletions: 0,
      late: 0,
    },
    missing: { firm: 0, soft: 0, byClass: {} },
    stalls: [],
    failures: [],
    memory: {},
    directReplyTo: [],
    agentLog: { errors: 0, counts: {}, firstErrors: [], warnings: {} },
    harnessProblems: bus.problems,
  };
  let agent: FuzzAgent | undefined;
  let second: FuzzAgent | undefined;

  // ------------------------------------------------ tracking
  const states = new Map<string, State>();
  const byReply = new Map<string, State>();
  const byCompletion = new Map<string, State>();
  const unmatched: Answer[] = [];
  const all: Answer[] = [];
  const pingWaiters = new Map<string, (a: Answer) => void>();
  let phase: 'fuzz' | 'restart' = 'fuzz';
  const afterRestart: Answer[] = [];
  let lastAnswerAt = Date.now();
  let matchedCount = 0;

  bus.onAnswer = (a) => {
    const w = a.kind === 'reply' && a.key !== undefined ? pingWaiters.get(a.key) : undefined;
    if (w) {
      pingWaiters.delete(a.key!);
      w(a);
      return;
    }
    all.push(a);
    lastAnswerAt = a.at;
    if (phase === 'restart') afterRestart.push(a);
    let s: State | undefined;
    if (a.kind === 'reply' && a.key !== undefined) s = byReply.get(a.key);
    else if (a.kind === 'completion' && a.key !== undefined) s = byCompletion.get(a.key);
    else if (a.kind === 'deadletter' && a.key !== undefined) s = states.get(a.key);
    if (s) {
      if (s.answers.length === 0) matchedCount++;
      s.answers.push(a);
    } else {
      unmatched.push(a);
    }
  };

  const ping = async (
    command: 'agent.ping' | 'agent.status',
    timeoutMs: number,
  ): Promise<{ ms: number; answer?: Answer; error?: string }> => {
    const id = `ping-${node}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const started = Date.now();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        pingWaiters.delete(key);
        resolve({ ms: Date.now() - started, error: `no reply to ${command} within ${timeoutMs} ms` });
      }, timeoutMs);
      const key = bus.sendValid(command, id);
      pingWaiters.set(key, (answer) => {
        clearTimeout(t);
        resolve({ ms: Date.now() - started, answer });
      });
    });
  };

  try {
    await bus.probe();
    agent = await FuzzAgent.start(args);
    report.memory.beforeKiB = agent.memory()?.rssKiB;
    await bus.connect(node);

    // ------------------------------------------------ generate and send
    const streams = [
      { letter: 'F', seed: o.fixedSeed, rng: new Rng(o.fixedSeed), n: 0 },
      { letter: 'R', seed: o.randomSeed, rng: new Rng(o.randomSeed), n: 0 },
    ];
    const ctx = {
      profile: bus.profile,
      node,
      replyTo: bus.replyTo,
      oddReplyTo: bus.oddReplyTo,
      maxMessageBytes: o.maxMessageBytes,
    };
    const sendStart = Date.now();
    const deadline = t0 + o.overallMs;
    let forgiven = 0;
    let timedOutCount = 0;
    const keyed = (c: FuzzCase) =>
      c.expect === 'reply'
        ? c.replyKey !== undefined
        : c.expect === 'completion-or-deadletter'
          ? c.completionKey !== undefined
          : c.replyKey !== undefined && c.completionKey !== undefined;
    const observable = (c: FuzzCase) => c.expect !== 'unobservable';
    let observableSent = 0;
    const outstanding = () => Math.max(0, observableSent - matchedCount - unmatched.length - timedOutCount - forgiven);
    const oldestOpen = () =>
      [...states.values()]
        .filter((s) => observable(s.c) && keyed(s.c) && s.sentAt && s.answers.length === 0 && !s.timedOut)
        .slice(0, 5)
        .map((s) => s.description);
    const lastSent = () =>
      [...states.values()]
        .filter((s) => s.sentAt)
        .slice(-3)
        .map((s) => s.description);

    for (let i = 0; i < o.count; i++) {
      const st = streams[i % 2];
      const c = generateCase(st.rng, st.letter, st.seed, st.n++, ctx, o.only, o.exclude);
      report.generated++;
      report.expected[c.expect] = (report.expected[c.expect] ?? 0) + 1;
      if (bus.profile === 'amqp' && c.replyTo?.startsWith('amq.rabbitmq.reply-to.') && report.directReplyTo.length < 5)
        report.directReplyTo.push(describeCase(c));
      const s: State = { c, description: describeCase(c), sentAt: 0, answers: [], timedOut: false };
      states.set(c.tag, s);
      if (c.replyKey !== undefined && (c.expect === 'reply' || c.expect === 'either')) byReply.set(c.replyKey, s);
      if (c.completionKey !== undefined && c.expect !== 'reply' && c.expect !== 'unobservable')
        byCompletion.set(c.completionKey, s);

      // bounded outstanding
      for (;;) {
        if (outstanding() < o.window) break;
        const now = Date.now();
        for (const x of states.values()) {
          if (
            !x.timedOut &&
            x.sentAt &&
            x.answers.length === 0 &&
            observable(x.c) &&
            keyed(x.c) &&
            now - x.sentAt > o.caseTimeoutMs
          ) {
            x.timedOut = true;
            timedOutCount++;
          }
        }
        if (now - lastAnswerAt > o.stallMs) {
          report.stalls.push({
            atSent: report.sent,
            outstanding: outstanding(),
            oldest: oldestOpen(),
            lastSent: lastSent(),
          });
          forgiven += outstanding();
          lastAnswerAt = now;
          break;
        }
        if (now > deadline || report.stalls.length > o.maxStalls) break;
        await sleep(5);
      }
      if (Date.now() > deadline || report.stalls.length > o.maxStalls) break;
      if (!agent.running) {
        const sent = [...states.values()]
          .filter((x) => x.sentAt)
          .slice(-3)
          .map((x) => x.description);
        report.agentDied = { code: agent.exitCode, atSent: report.sent, lastSent: sent };
        break;
      }
      s.sentAt = Date.now();
      await bus.send(c);
      report.sent++;
      if (observable(c)) observableSent++;
      // keep the memory of the run small: big bodies are not needed any more
      if (c.body.length > 1024) c.body = c.body.subarray(0, 1024);
      if (bus.problems.length > 20) break;
    }
    report.durations.sendMs = Date.now() - sendStart;

    // ------------------------------------------------ wait for the rest
    const settleStart = Date.now();
    while (Date.now() < deadline) {
      const open = [...states.values()].some((s) => observable(s.c) && s.answers.length === 0) && outstanding() > 0;
      if (!open) break;
      if (Date.now() - lastAnswerAt > o.quietMs) break;
      await sleep(50);
    }
    report.durations.settleMs = Date.now() - settleStart;

    // ------------------------------------------------ after the storm
    const p = await ping('agent.ping', 1000);
    report.pingAfterMs = p.ms;
    if (p.error) report.pingAfterError = p.error;
    else if (!p.answer?.ok) report.pingAfterError = `agent.ping answered ${p.answer?.code}: ${p.answer?.message}`;
    const mem = agent.memory();
    report.memory.afterKiB = mem?.rssKiB;
    report.memory.peakKiB = mem?.peakKiB;
    const st = await ping('agent.status', 5000);
    report.agentStatus = st.answer?.result ?? st.answer?.summary ?? st.error;

    evaluate(report, states, unmatched, all, bus.profile);

    // ------------------------------------------------ restart
    const r0 = Date.now();
    const exit = await agent.stop();
    report.agentExit = exit;
    collectLog(report, agent);
    const restart: NonNullable<FuzzReport['restart']> = { exitCode: exit, redelivered: [], redeliveredCases: [] };
    report.restart = restart;
    if (bus.nodeQueueDepth)
      restart.queueDepth = await bus.nodeQueueDepth(node).catch((e: Error) => {
        bus.problems.push(`checkQueue: ${e.message}`);
        return undefined;
      });
    phase = 'restart';
    try {
      second = await FuzzAgent.start(args);
      const rp = await ping('agent.ping', 1000);
      restart.pingMs = rp.ms;
      if (rp.error) restart.pingError = rp.error;
      else if (!rp.answer?.ok) restart.pingError = `agent.ping answered ${rp.answer?.code}: ${rp.answer?.message}`;
    } catch (e) {
      // e.g. the restarted agent crashed on what the session / queue still held
      restart.pingError = `the restarted agent did not come up: ${(e as Error).message}`;
      if (e instanceof StartError) collectLog(report, e.agent);
    }
    await sleep(o.afterRestartMs);
    restart.redelivered = afterRestart.slice(0, 50);
    restart.redeliveredCases = [...states.values()]
      .filter((s) => s.answers.some((a) => afterRestart.includes(a)))
      .slice(0, 10)
      .map((s) => s.description);
    if (afterRestart.length > 50)
      restart.redelivered.push({ kind: 'reply', where: '…', at: 0, summary: `and ${afterRestart.length - 50} more` });
    (restart as { redeliveredCount?: number }).redeliveredCount = afterRestart.length;
    if (second) {
      restart.secondExit = await second.stop();
      collectLog(report, second);
    }
    report.durations.restartMs = Date.now() - r0;
  } finally {
    agent?.kill();
    second?.kill();
    if (agent) collectLog(report, agent);
    await bus.close().catch(() => undefined);
    await bus.cleanup(node).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    report.durations.totalMs = Date.now() - t0;
  }
  return report;
}

const logged = new WeakSet<FuzzAgent>();
function collectLog(r: FuzzReport, a: FuzzAgent): void {
  if (logged.has(a)) return;
  logged.add(a);
  for (const m of INTERESTING_LOG) if (a.count(m)) r.agentLog.counts[m] = (r.agentLog.counts[m] ?? 0) + a.count(m);
  r.agentLog.errors += a.errors.length;
  for (const e of a.errors)
    if (r.agentLog.firstErrors.length < 8 || ((e.level ?? 0) >= 60 && r.agentLog.firstErrors.length < 12))
      r.agentLog.firstErrors.push(e);
  for (const [msg, lines] of a.firstOf) {
    const w = (r.agentLog.warnings[msg] ??= { n: 0, first: [] });
    w.n += a.count(msg);
    for (const l of lines) if (w.first.length < 3) w.first.push(l);
  }
}

/** Matches answers to cases and records every violation of the rules. */
function evaluate(
  r: FuzzReport,
  states: Map<string, State>,
  unmatched: Answer[],
  all: Answer[],
  profile: string,
): void {
  const fail = (check: string, s: State | undefined, detail: string) =>
    r.failures.push({ check, cls: s?.c.cls ?? '-', tag: s?.c.tag, detail });
  for (const a of all) {
    if (a.kind === 'reply') r.answers.replies++;
    else if (a.kind === 'completion') r.answers.completions++;
    else r.answers.deadLetters++;
    const code = a.ok ? 'ok' : (a.code ?? (a.parseError ? 'unreadable' : 'no code'));
    if (a.kind !== 'deadletter') r.answers.byCode[code] = (r.answers.byCode[code] ?? 0) + 1;
  }
  const owner = new Map<Answer, State>();
  for (const s of states.values()) for (const a of s.answers) owner.set(a, s);

  // MQTT 5 correlation data that came back changed (decoded as UTF-8 and encoded again): rule 3 wants the bytes as sent
  const mangled = new Map<string, State>();
  for (const s of states.values()) {
    const cd = s.c.correlationData;
    if (!cd || !s.sentAt) continue;
    const m = Buffer.from(cd.toString('utf8'), 'utf8').toString('hex');
    if (m !== cd.toString('hex')) mangled.set(m, s);
  }
  for (let i = unmatched.length - 1; i >= 0; i--) {
    const a = unmatched[i];
    const s = a.kind === 'reply' && a.key !== undefined ? mangled.get(a.key) : undefined;
    if (!s || s.answers.length) continue;
    unmatched.splice(i, 1);
    fail(
      'MQTT 5 correlation data is echoed as the exact bytes received',
      s,
      `${s.description} → reply carried correlation data hex ${a.key!.slice(0, 80)}`,
    );
    s.answers.push(a);
    owner.set(a, s);
  }

  // every answer: a contract code, never INTERNAL, readable, a bounded message
  for (const a of all) {
    if (a.kind === 'deadletter') continue;
    const s = owner.get(a);
    const where = `${a.kind} ${a.where}: ${a.summary}`;
    if (a.parseError) fail('answer is a readable reply/event', s, `${a.parseError}; ${where}`);
    else if (!a.ok && a.code === 'INTERNAL') fail('never INTERNAL', s, where);
    else if (!a.ok && (a.code === undefined || !CONTRACT_CODES.has(a.code))) fail('a contract error code', s, where);
    if (!a.ok && a.message !== undefined && a.message.length > 2048)
      fail(
        'error messages quote at most 64 characters of caller input',
        s,
        `message of ${a.message.length} characters: ${a.message.slice(0, 150)}…`,
      );
  }

  // each case: the answer the rules require
  const soft = { reply: [] as State[], completion: [] as State[], either: [] as State[] };
  for (const s of states.values()) {
    const c = s.c;
    if (!s.sentAt || c.expect === 'unobservable') continue;
    const replies = s.answers.filter((a) => a.kind === 'reply');
    const others = s.answers.filter((a) => a.kind !== 'reply');
    const got = c.expect === 'reply' ? replies : c.expect === 'completion-or-deadletter' ? others : s.answers;
    if (got.length === 0) {
      const bucket =
        c.expect === 'reply' ? soft.reply : c.expect === 'completion-or-deadletter' ? soft.completion : soft.either;
      const isFirm =
        c.expect === 'reply'
          ? c.replyKey !== undefined
          : c.expect === 'completion-or-deadletter'
            ? c.completionKey !== undefined
            : c.replyKey !== undefined && c.completionKey !== undefined;
      if (isFirm) {
        r.missing.firm++;
        r.missing.byClass[c.cls] = (r.missing.byClass[c.cls] ?? 0) + 1;
        const wrongKind = s.answers.length ? ` (got a ${s.answers[0].kind} instead: ${s.answers[0].where})` : '';
        fail(
          c.expect === 'reply'
            ? 'every command with a reply address gets a reply'
            : c.expect === 'either'
              ? 'every command gets a reply or completion'
              : 'every command without a reply address gets its completion event or a dead letter',
          s,
          `${s.description}${wrongKind}`,
        );
      } else {
        bucket.push(s);
      }
      continue;
    }
    for (const a of got) {
      if (a.kind === 'deadletter') continue;
      if (c.want === 'ok' && !a.ok)
        fail('a valid read-only command succeeds', s, `${s.description} → ${a.code}: ${a.message?.slice(0, 200)}`);
      if (c.want === 'error' && a.ok) fail('an invalid command is refused', s, `${s.description} → ok: ${a.summary}`);
      if (!a.ok && c.codes && a.code && !c.codes.includes(a.code))
        fail(
          `the rules' error code (${c.codes.join('|')})`,
          s,
          `${s.description} → ${a.code}: ${a.message?.slice(0, 200)}`,
        );
    }
  }
  // cases whose answer the rules do not key: counted against the answers no case claimed
  const ur = unmatched.filter((a) => a.kind === 'reply').length;
  const uc = unmatched.filter((a) => a.kind === 'completion').length;
  r.answers.unmatchedReplies = ur;
  r.answers.unmatchedCompletions = uc;
  const missR = Math.max(0, soft.reply.length - ur);
  const missC = Math.max(0, soft.completion.length - uc);
  const leftover = Math.max(0, ur - soft.reply.length) + Math.max(0, uc - soft.completion.length);
  const missE = Math.max(0, soft.either.length - leftover);
  r.missing.soft = missR + missC + missE;
  const softCheck = (n: number, list: State[], what: string, check: string) => {
    if (n <= 0) return;
    const byCls: Record<string, number> = {};
    for (const s of list) byCls[s.c.cls] = (byCls[s.c.cls] ?? 0) + 1;
    for (const [cls, k] of Object.entries(byCls))
      r.missing.byClass[`${cls} (unkeyed)`] = (r.missing.byClass[`${cls} (unkeyed)`] ?? 0) + k;
    r.failures.push({
      check,
      cls: Object.keys(byCls).join(','),
      detail: `${n} of ${list.length} ${what} are missing (answers that carry no key of ours are counted, not matched); candidates by class ${JSON.stringify(byCls)}; e.g. ${list[0].description}`,
    });
  };
  softCheck(
    missR,
    soft.reply,
    `unkeyed replies (${ur} unclaimed replies arrived)`,
    'every command with a reply address gets a reply',
  );
  softCheck(
    missC,
    soft.completion,
    `unkeyed completions (${uc} unclaimed completions arrived)`,
    'every command without a reply address gets its completion event or a dead letter',
  );
  softCheck(missE, soft.either, 'unkeyed replies-or-completions', 'every command gets a reply or completion');
  void profile;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The report as a few readable lines. */
export function formatReport(r: FuzzReport): string {
  const kib = (k?: number) => (k === undefined ? '?' : `${(k / 1024).toFixed(1)} MiB`);
  const lines = [
    `fuzz ${r.transport}: node ${r.node}; seeds fixed=${r.seeds.fixed} random=${r.seeds.random} (replay: VIRTBUS_FUZZ_SEED=${r.seeds.fixed} VIRTBUS_FUZZ_RANDOM_SEED=${r.seeds.random})`,
    `  sent ${r.sent}/${r.generated} in ${(r.durations.sendMs / 1000).toFixed(1)} s, settled in ${(r.durations.settleMs / 1000).toFixed(1)} s, restart check ${((r.durations.restartMs ?? 0) / 1000).toFixed(1)} s, total ${(r.durations.totalMs / 1000).toFixed(1)} s`,
    `  expected: ${JSON.stringify(r.expected)}`,
    `  received: ${r.answers.replies} replies, ${r.answers.completions} completions, ${r.answers.deadLetters} dead letters; by code ${JSON.stringify(r.answers.byCode)}; unclaimed replies ${r.answers.unmatchedReplies}, completions ${r.answers.unmatchedCompletions}`,
    `  still missing: ${r.missing.firm} keyed + ${r.missing.soft} unkeyed ${JSON.stringify(r.missing.byClass)}`,
    `  valid command after the storm: ${r.pingAfterError ?? `answered in ${r.pingAfterMs} ms`}`,
    `  agent RSS: ${kib(r.memory.beforeKiB)} after start, ${kib(r.memory.afterKiB)} after the run, peak ${kib(r.memory.peakKiB)}`,
    `  agent.status: ${(typeof r.agentStatus === 'string' ? r.agentStatus : JSON.stringify(r.agentStatus)).slice(0, 700)}`,
    `  agent log: ${r.agentLog.errors} error lines; ${JSON.stringify(r.agentLog.counts)}; exit ${r.agentExit}`,
  ];
  if (r.agentDied)
    lines.push(
      `  AGENT DIED (exit ${r.agentDied.code}) after ${r.agentDied.atSent} cases; the last ones sent:`,
      ...r.agentDied.lastSent.map((d) => `    ${d}`),
    );
  if (r.stalls.length)
    lines.push(
      `  stalls (no answer for a while, outstanding forgiven): ${JSON.stringify(r.stalls.map((s) => ({ atSent: s.atSent, outstanding: s.outstanding })))}`,
      ...r.stalls
        .slice(0, 3)
        .flatMap((s) => [
          ...s.oldest.slice(0, 2).map((d) => `    stall at ${s.atSent}, oldest keyed unanswered: ${d}`),
          ...s.lastSent.slice(-1).map((d) => `    stall at ${s.atSent}, last sent: ${d}`),
        ]),
    );
  if (r.restart) {
    const rs = r.restart as FuzzReport['restart'] & { redeliveredCount?: number };
    lines.push(
      `  restart: exit ${rs.exitCode}, node queue depth ${rs.queueDepth ?? 'n/a'}, valid command ${rs.pingError ?? `answered in ${rs.pingMs} ms`}, old commands answered again ${rs.redeliveredCount ?? 0}, second exit ${rs.secondExit}`,
    );
    for (const d of rs.redeliveredCases.slice(0, 3)) lines.push(`    answered again: ${d}`);
  }
  if (r.harnessProblems.length) lines.push(`  harness problems: ${r.harnessProblems.slice(0, 5).join('; ')}`);
  for (const e of r.agentLog.firstErrors.filter((l) => ((l as { level?: number }).level ?? 0) >= 60).slice(0, 2))
    lines.push(`  agent FATAL: ${JSON.stringify(e).slice(0, 1200)}`);
  for (const e of r.agentLog.firstErrors.slice(0, 3)) lines.push(`  agent error: ${JSON.stringify(e).slice(0, 600)}`);
  for (const [msg, w] of Object.entries(r.agentLog.warnings).slice(0, 12))
    lines.push(
      `  agent warning ×${w.n} ${JSON.stringify(msg).slice(0, 100)}: ${JSON.stringify(w.first[0]).slice(0, 500)}`,
    );
  return lines.join('\n');
}

/** One example per (check, class): what a failing assertion prints. */
export function failureDigest(failures: Failure[], max = 40): string {
  const seen = new Map<string, { f: Failure; n: number }>();
  for (const f of failures) {
    const k = `${f.check} | ${f.cls}`;
    const e = seen.get(k);
    if (e) e.n++;
    else seen.set(k, { f, n: 1 });
  }
  const out = [...seen.values()]
    .slice(0, max)
    .map(({ f, n }) => `- ${f.check} [${f.cls}] ×${n}: ${f.detail.slice(0, 900)}`);
  if (seen.size > max) out.push(`… and ${seen.size - max} more kinds`);
  return out.join('\n');
}
