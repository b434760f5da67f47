// `virtbus watch`: which events to print (--domain, --event, --object) and
// how — one line each, state changes coloured on a terminal, or one
// CloudEvent per line (--json) for programs.
import type { CloudEvent } from '../contract/envelope';
import { UsageError } from './args';

export const WATCH_OBJECTS = ['domain', 'pool', 'network', 'agent', 'job', 'command'] as const;

const EVENT_TYPE_PREFIX = 'virtbus.event.';

export interface WatchFilter {
  /** a domain's name or UUID */
  domain?: string;
  /** event kinds (lifecycle, device-added, …) or state changes (started, stopped, …) */
  events?: string[];
  objects?: string[];
}

const list = (s: string | undefined): string[] | undefined => {
  const l = s
    ?.split(',')
    .map((x) => x.trim())
    .filter((x) => x);
  return l?.length ? l : undefined;
};

/** The filter from the command line; an unknown --object is refused. */
export function watchFilter(o: { domain?: string; event?: string; object?: string }): WatchFilter {
  const objects = list(o.object);
  const bad = objects?.filter((x) => !(WATCH_OBJECTS as readonly string[]).includes(x));
  if (bad?.length) throw new UsageError(`--object ${bad.join(',')}: one of ${WATCH_OBJECTS.join(', ')}`);
  return {
    ...(o.domain && { domain: o.domain }),
    ...(list(o.event) && { events: list(o.event) }),
    ...(objects && { objects }),
  };
}

interface EventFacts {
  object?: string;
  /** the type's last part: lifecycle, device-added, progress, online, … */
  kind?: string;
  data: {
    domain?: { name?: string; uuid?: string };
    pool?: { name?: string };
    network?: { name?: string };
    event?: string;
    detail?: unknown;
    seq?: number;
    id?: string;
    state?: string;
    node?: string;
  };
}

function factsOf(e: CloudEvent): EventFacts {
  const type =
    typeof e.type === 'string' && e.type.startsWith(EVENT_TYPE_PREFIX) ? e.type.slice(EVENT_TYPE_PREFIX.length) : '';
  const [object, ...rest] = type.split('.');
  return {
    ...(object && { object }),
    ...(rest.length && { kind: rest.join('.') }),
    data: (e.data && typeof e.data === 'object' ? e.data : {}) as EventFacts['data'],
  };
}

export function matches(f: WatchFilter, e: CloudEvent): boolean {
  const x = factsOf(e);
  if (f.objects && !(x.object && f.objects.includes(x.object))) return false;
  if (f.domain) {
    const d = x.data.domain;
    if (!d || (d.name !== f.domain && d.uuid?.toLowerCase() !== f.domain.toLowerCase())) return false;
  }
  if (f.events && !f.events.some((ev) => ev === x.kind || ev === x.data.event)) return false;
  return true;
}

/** Colouring on or off: a terminal, and no NO_COLOR (https://no-color.org: any non-empty value). */
export function useColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return Boolean(isTTY) && !env.NO_COLOR;
}

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

/** The colour of a state change: started/resumed green, stopped/destroyed/crashed red, suspended yellow. */
export function stateColour(event: string | undefined, detail?: unknown): string | undefined {
  if (detail === 'destroyed' || detail === 'crashed') return RED;
  switch (event) {
    case 'started':
    case 'resumed':
      return GREEN;
    case 'stopped':
    case 'destroyed':
    case 'crashed':
      return RED;
    case 'suspended':
    case 'pmsuspended':
      return YELLOW;
    default:
      return undefined;
  }
}

/** One event as one line: time, type, object, event/detail (coloured if asked), seq. */
export function eventLine(e: CloudEvent, colour: boolean): string {
  const { data: d } = factsOf(e);
  const who = d.domain?.name ?? d.pool?.name ?? d.network?.name ?? d.id ?? e.subject ?? '';
  let change = `${d.event ?? d.state ?? ''}${d.detail !== undefined ? `/${String(d.detail)}` : ''}`;
  const c = colour ? stateColour(d.event, d.detail) : undefined;
  if (c && change) change = `${c}${change}${RESET}`;
  return [e.time ?? '', e.type, who, change, d.seq ? `seq=${d.seq}` : '']
    .filter((s, i) => i < 2 || s)
    .join('  ')
    .trimEnd();
}
