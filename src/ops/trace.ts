// W3C trace context (the CloudEvents distributed-tracing extension): what a
// command's `traceparent` / `tracestate` say, checked before anything is
// copied into a reply, an event or a log line. A command brings them as
// envelope attributes, or as the AMQP header / MQTT 5 user property of the
// same name (the envelope wins). A missing or malformed traceparent starts a
// fresh trace, as the W3C spec asks of a participant: it never refuses the
// command. The agent's work is a span of its own: the trace id is kept, the
// parent id becomes the agent's span id.
import { randomFillSync } from 'node:crypto';

export interface TraceContext {
  /** 32 lower-case hex digits, not all zero */
  traceId: string;
  /** the agent's span for this command: 16 lower-case hex digits */
  spanId: string;
  /** the caller's span, when it sent one */
  parentId?: string;
  /** 2 hex digits (01: sampled) */
  flags: string;
  /** the vendor list, passed on unchanged when well-formed */
  tracestate?: string;
}

/** version 00; other versions are read by their first four fields (the spec's forward compatibility) */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** list-member = key "=" value, keys and values of printable ASCII without ',' and '='; at most 32 members, 512 chars */
const TRACESTATE_MEMBER =
  /^[a-z0-9][_0-9a-z\-*/@]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return undefined;
}

function validTracestate(v: string | undefined): string | undefined {
  if (v === undefined || v.length === 0 || v.length > 512) return undefined;
  const members = v
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  if (members.length === 0 || members.length > 32) return undefined;
  return members.every((m) => TRACESTATE_MEMBER.test(m)) ? members.join(',') : undefined;
}

/**
 * Random ids from a pool refilled 4 KiB at a time: a command without a trace
 * gets a fresh one, and one getrandom per 24 bytes was ~5 % of the agent's
 * CPU under load (as Node's own randomUUID, which caches its entropy too).
 */
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;
function hex(bytes: number): string {
  if (poolAt + bytes > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const s = POOL.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return s;
}

/** A fresh trace (the command brought none, or a malformed one). */
export function freshTrace(): TraceContext {
  return { traceId: hex(16), spanId: hex(8), flags: '01' };
}

/**
 * The command's trace context: from its envelope attributes, else its
 * transport headers; a fresh trace when neither has a usable traceparent.
 */
export function traceOf(attributes: Record<string, unknown>, headers: Record<string, unknown> = {}): TraceContext {
  const fromEnvelope = text(attributes.traceparent);
  const parent = fromEnvelope ?? text(headers.traceparent);
  const m = parent !== undefined && parent.length <= 512 ? TRACEPARENT.exec(parent) : null;
  if (!m || m[1] === 'ff' || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN || (m[1] === '00' && m[5] !== undefined)) {
    return freshTrace();
  }
  const state = validTracestate(text(fromEnvelope !== undefined ? attributes.tracestate : headers.tracestate));
  return {
    traceId: m[2],
    parentId: m[3],
    spanId: hex(8),
    flags: m[4],
    ...(state !== undefined && { tracestate: state }),
  };
}

/** The attributes a reply or event carries: the agent's span as the parent of whatever the caller does next. */
export function traceAttributes(t: TraceContext | undefined): { traceparent?: string; tracestate?: string } {
  if (!t) return {};
  return {
    traceparent: `00-${t.traceId}-${t.spanId}-${t.flags}`,
    ...(t.tracestate !== undefined && { tracestate: t.tracestate }),
  };
}

/** Kept with a job (JSON): the same context when the job's events and reply go out, after a restart too. */
export function traceFromRecord(v: unknown): TraceContext | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const t = v as Record<string, unknown>;
  if (typeof t.traceId !== 'string' || !/^[0-9a-f]{32}$/.test(t.traceId)) return undefined;
  if (typeof t.spanId !== 'string' || !/^[0-9a-f]{16}$/.test(t.spanId)) return undefined;
  if (typeof t.flags !== 'string' || !/^[0-9a-f]{2}$/.test(t.flags)) return undefined;
  const state = validTracestate(typeof t.tracestate === 'string' ? t.tracestate : undefined);
  return {
    traceId: t.traceId,
    spanId: t.spanId,
    flags: t.flags,
    ...(typeof t.parentId === 'string' && /^[0-9a-f]{16}$/.test(t.parentId) && { parentId: t.parentId }),
    ...(state !== undefined && { tracestate: state }),
  };
}
