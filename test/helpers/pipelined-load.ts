// The pipelined-load checks shared by test/system/pipelined*.test.ts (one
// per transport): the commands they send all at once and what the replies
// and events must show afterwards. Sending and collecting stay with each
// transport's test.

/** Sends a command without waiting for it; returns the id its reply is correlated with. */
export type Send = (command: string, data: unknown) => string;
/** Sends a command and resolves with its reply's CloudEvent. */
export type Call = (command: string, data: unknown) => Promise<{ data: { ok: boolean } }>;

export const testDomainXml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

/** Defines and starts n test-driver domains named `${node}-${prefix}-i`; each name is pushed onto track first (for cleanup). */
export async function newDomains(call: Call, node: string, n: number, prefix: string, track: string[]) {
  const names = Array.from({ length: n }, (_, i) => `${node}-${prefix}-${i}`);
  for (const name of names) {
    track.push(name);
    expect((await call('domain.define', { xml: testDomainXml(name) })).data.ok).toBe(true);
    expect((await call('domain.start', { domain: name })).data.ok).toBe(true);
  }
  return names;
}

export interface Sent {
  id: string;
  command: string;
  /** for a read: the state the writes sent before it leave the domain in */
  expect?: string;
}

/** 60 alternating suspend/resume on dom, each followed by three domain.get, sent without waiting (240 in all). */
export function sendInterleaved(send: Send, dom: string): Sent[] {
  const sent: Sent[] = [];
  let state = 'running';
  for (let i = 0; i < 60; i++) {
    const write = i % 2 === 0 ? 'domain.suspend' : 'domain.resume';
    sent.push({ id: send(write, { domain: dom }), command: write });
    state = write === 'domain.suspend' ? 'paused' : 'running';
    for (let r = 0; r < 3; r++)
      sent.push({ id: send('domain.get', { domain: dom }), command: 'domain.get', expect: state });
  }
  return sent;
}

/** The reads whose reply shows another state than the writes sent before them left (none, when the order holds). */
export function wrongReads(sent: Sent[], got: Map<string, any>) {
  return sent
    .filter((s) => s.expect && got.get(s.id).result?.state !== s.expect)
    .map((s) => ({ ...s, got: got.get(s.id), i: sent.indexOf(s) }));
}

/** 40 rounds of suspend (even) / resume (odd) over names; returns the ids and each domain's expected lifecycle events. */
export function sendRounds(send: Send, names: string[]) {
  const ids: string[] = [];
  const expected = new Map<string, string[]>(names.map((n) => [n, []]));
  for (let round = 0; round < 40; round++) {
    for (const name of names) {
      ids.push(send(round % 2 === 0 ? 'domain.suspend' : 'domain.resume', { domain: name }));
      expected.get(name)!.push(round % 2 === 0 ? 'suspended' : 'resumed');
    }
  }
  return { ids, expected };
}

/**
 * Every domain of expected got exactly its events, in order, with
 * consecutive seq in arrival order: nothing lost, duplicated or reordered.
 * events: the lifecycle events' bodies in arrival order (others' domains are ignored).
 */
export function expectEventOrder(expected: Map<string, string[]>, events: Array<{ data: any }>): void {
  const byDomain = new Map<string, Array<{ event: string; seq: number }>>();
  for (const { data: d } of events) {
    if (!expected.has(d.domain.name)) continue;
    byDomain.set(d.domain.name, [...(byDomain.get(d.domain.name) ?? []), { event: d.event, seq: d.seq }]);
  }
  for (const [name, want] of expected) {
    const seen = byDomain.get(name) ?? [];
    expect({ name, events: seen.map((e) => e.event) }).toEqual({ name, events: want });
    const seqs = seen.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
  }
}
