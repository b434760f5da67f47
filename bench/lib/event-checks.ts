// What the events must satisfy: one suspended/resumed event per successful
// command, and per domain a seq that starts at 1 and grows by one without
// gaps in arrival order.
import type { SeenEvent } from './event-watch';

export interface EventCheck {
  expectedSuspended: number;
  expectedResumed: number;
  suspended: number;
  resumed: number;
  /** ok commands without their event */
  lost: number;
  /** events beyond the ok commands */
  extra: number;
  /** domains whose seq did not go 1, 2, 3, … in arrival order */
  domainsWithSeqProblems: number;
  /** places where seq jumped ahead */
  seqGaps: number;
  /** places where seq repeated or went back */
  seqDisorder: number;
  examples: string[];
}

export function checkEvents(events: SeenEvent[], okSuspend: number, okResume: number): EventCheck {
  const suspended = events.filter((e) => e.event === 'suspended').length;
  const resumed = events.filter((e) => e.event === 'resumed').length;
  const byDomain = new Map<string, SeenEvent[]>();
  for (const e of events) {
    const l = byDomain.get(e.domain);
    if (l) l.push(e);
    else byDomain.set(e.domain, [e]);
  }
  let gaps = 0;
  let disorder = 0;
  let domains = 0;
  const examples: string[] = [];
  for (const [uuid, list] of byDomain) {
    let prev = 0;
    let bad = false;
    for (const e of list) {
      if (e.seq > prev + 1) {
        gaps++;
        bad = true;
        if (examples.length < 5) examples.push(`${e.name || uuid}: seq ${prev} then ${e.seq}`);
      } else if (!(e.seq > prev)) {
        disorder++;
        bad = true;
        if (examples.length < 5) examples.push(`${e.name || uuid}: seq ${prev} then ${e.seq}`);
      }
      prev = Number.isFinite(e.seq) ? e.seq : prev;
    }
    if (bad) domains++;
  }
  return {
    expectedSuspended: okSuspend,
    expectedResumed: okResume,
    suspended,
    resumed,
    lost: Math.max(0, okSuspend - suspended) + Math.max(0, okResume - resumed),
    extra: Math.max(0, suspended - okSuspend) + Math.max(0, resumed - okResume),
    domainsWithSeqProblems: domains,
    seqGaps: gaps,
    seqDisorder: disorder,
    examples,
  };
}
