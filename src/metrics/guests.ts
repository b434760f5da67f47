// Guest metrics for Prometheus, from ONE virConnectGetAllDomainStats per
// scrape (not a call per guest and metric): every series below is a field of
// that call's records, declared once in GUEST_SERIES.
//
// A scrape always answers: the stats call runs with NOWAIT (a guest whose
// libvirt job is busy is reported without the stats that need its monitor
// rather than stalling everyone) and under a time limit; when it fails, times
// out or there is no libvirt connection, the guest series are left out and
// virtbus_guest_scrape_success says 0. A stats call that outlived its limit
// is waited for, not started again, until it returns: a stuck libvirtd costs
// one of the addon's threads, not one per scrape.
import { types } from 'node:util';
import { Counter, Gauge, type Registry } from './prom';
import type { Connection } from '../libvirt/connection';
import { enums } from '../libvirt/names';
import { withTimeout } from '../timeout';
import { parseGuestStats, type DeviceStats, type GuestStats } from './guest-stats';

export interface GuestMetricsOptions {
  /** the current libvirt connection; undefined while there is none (the scrape then reports no guests) */
  connection: () => Connection | undefined;
  /** limit of the stats call per scrape (ms, default 5000) */
  timeoutMs?: number;
  /** a scrape whose stats call failed or timed out (not called for "no connection") */
  onError?: (err: Error) => void;
}

const PREFIX = 'virtbus_guest_';
const GUEST_LABELS = ['domain', 'uuid'] as const;
const LABELS = { guest: GUEST_LABELS, block: [...GUEST_LABELS, 'device'], net: [...GUEST_LABELS, 'interface'] };
const KIB = 1024;

/** One exported series: the libvirt field it comes from, per guest or per device. */
export interface GuestSeries {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  of: keyof typeof LABELS;
  /** the field in libvirt's record (for devices: after "block.<n>." / "net.<n>.") */
  field: string;
  /** to base units (seconds, bytes) */
  scale?: number;
}

const S = enums.virDomainStatsTypes;
/** The groups GUEST_SERIES reads; asking for no more keeps the call cheap (no perf, iothread, dirtyrate). */
const STATS =
  S.VIR_DOMAIN_STATS_STATE |
  S.VIR_DOMAIN_STATS_CPU_TOTAL |
  S.VIR_DOMAIN_STATS_BALLOON |
  S.VIR_DOMAIN_STATS_VCPU |
  S.VIR_DOMAIN_STATS_INTERFACE |
  S.VIR_DOMAIN_STATS_BLOCK;

// rx/tx exactly as libvirt's net.<n>.rx.* / tx.* count them
const net = (
  dir: 'receive' | 'transmit',
  what: 'bytes' | 'packets' | 'errors' | 'drops',
  field: string,
): GuestSeries => {
  const rxtx = dir === 'receive' ? 'rx' : 'tx';
  return {
    name: `network_${dir}_${what}_total`,
    help: `Interface ${dir} ${what} (libvirt net.<n>.${rxtx}.${field})`,
    type: 'counter',
    of: 'net',
    field: `${rxtx}.${field}`,
  };
};
const block = (name: string, help: string, field: string): GuestSeries => ({
  name: `block_${name}_total`,
  help: `${help} (libvirt block.<n>.${field})`,
  type: 'counter',
  of: 'block',
  field,
});

export const GUEST_SERIES: readonly GuestSeries[] = [
  {
    name: 'state',
    help:
      'libvirt domain state: 0 no state, 1 running, 2 blocked, 3 paused, 4 shutting down, 5 shut off, 6 crashed, ' +
      '7 suspended by guest power management',
    type: 'gauge',
    of: 'guest',
    field: 'state.state',
  },
  {
    name: 'cpu_seconds_total',
    help: 'CPU time the guest used, all vCPUs and its emulator threads',
    type: 'counter',
    of: 'guest',
    field: 'cpu.time',
    scale: 1e-9,
  },
  { name: 'vcpus', help: 'vCPUs the guest has now', type: 'gauge', of: 'guest', field: 'vcpu.current' },
  { name: 'vcpus_maximum', help: 'vCPUs the guest may have', type: 'gauge', of: 'guest', field: 'vcpu.maximum' },
  {
    name: 'memory_current_bytes',
    help: 'Memory the guest has now (after ballooning)',
    type: 'gauge',
    of: 'guest',
    field: 'balloon.current',
    scale: KIB,
  },
  {
    name: 'memory_maximum_bytes',
    help: 'Memory the guest may have',
    type: 'gauge',
    of: 'guest',
    field: 'balloon.maximum',
    scale: KIB,
  },
  {
    name: 'memory_rss_bytes',
    help: "Resident set size of the guest's QEMU process",
    type: 'gauge',
    of: 'guest',
    field: 'balloon.rss',
    scale: KIB,
  },
  block('read_bytes', 'Bytes read from the disk', 'rd.bytes'),
  block('write_bytes', 'Bytes written to the disk', 'wr.bytes'),
  block('read_requests', 'Read requests to the disk', 'rd.reqs'),
  block('write_requests', 'Write requests to the disk', 'wr.reqs'),
  net('receive', 'bytes', 'bytes'),
  net('transmit', 'bytes', 'bytes'),
  net('receive', 'packets', 'pkts'),
  net('transmit', 'packets', 'pkts'),
  net('receive', 'errors', 'errs'),
  net('transmit', 'errors', 'errs'),
  net('receive', 'drops', 'drop'),
  net('transmit', 'drops', 'drop'),
];

/** What one scrape read: the guests, or why there are none. */
interface Scrape {
  guests: GuestStats[];
  ok: boolean;
  seconds: number;
}

/**
 * Registers the guest metrics on `register`. Every series is filled at
 * scrape time from the same stats call: the first metric registered here
 * starts it and the others wait for it (prom-client collects a registry's
 * metrics concurrently). A single metric read on its own reports the last
 * scrape.
 */
export function guestMetrics(register: Registry, o: GuestMetricsOptions): void {
  const registers = [register];
  const stats = new GuestStatsReader(o, () => errors.inc());
  let latest: Promise<Scrape> | undefined;
  const next = () => (latest = stats.read());
  const last = () => latest ?? next();

  // registered first: starts the scrape the others read
  new Gauge({
    name: `${PREFIX}scrape_success`,
    help: '1 if the last scrape read the guests from libvirt, 0 if not (no connection, error, time limit)',
    registers,
    async collect() {
      this.set((await next()).ok ? 1 : 0);
    },
  });
  new Gauge({
    name: `${PREFIX}scrape_duration_seconds`,
    help: "Time the last scrape's libvirt stats call took (until its time limit at most)",
    registers,
    async collect() {
      this.set((await last()).seconds);
    },
  });
  const errors = new Counter({
    name: `${PREFIX}scrape_errors_total`,
    help: 'Scrapes that could not read the guests from libvirt (no connection, error, time limit)',
    registers,
    async collect() {
      await last(); // counted by the reader; waited for so that this scrape's failure is in this answer
    },
  });

  for (const s of GUEST_SERIES) {
    const config = { name: PREFIX + s.name, help: s.help, labelNames: LABELS[s.of], registers };
    if (s.type === 'gauge') {
      new Gauge({
        ...config,
        async collect() {
          const { guests } = await last();
          this.reset();
          for (const [labels, v] of values(guests, s)) this.set(labels, v);
        },
      });
    } else {
      // a Counter (TYPE counter) that restates libvirt's running total at each scrape
      new Counter({
        ...config,
        async collect() {
          const { guests } = await last();
          this.reset();
          for (const [labels, v] of values(guests, s)) if (v >= 0) this.inc(labels, v);
        },
      });
    }
  }
}

type Labels = Record<string, string>;

/** The series' value for every guest (or device of every guest) that reports its field. */
function* values(guests: GuestStats[], s: GuestSeries): Generator<[Labels, number]> {
  const scale = s.scale ?? 1;
  for (const g of guests) {
    const guest = { domain: g.name, uuid: g.uuid };
    if (s.of === 'guest') {
      const v = g.values[s.field];
      if (v !== undefined && Number.isFinite(v)) yield [guest, v * scale];
      continue;
    }
    const label = s.of === 'block' ? 'device' : 'interface';
    for (const d of unique(s.of === 'block' ? g.block : g.net)) {
      const v = d.values[s.field];
      if (v !== undefined && Number.isFinite(v)) yield [{ ...guest, [label]: d.name }, v * scale];
    }
  }
}

/** One series per device name: the first record of a name wins (libvirt lists a disk once without BACKING). */
function unique(devices: DeviceStats[]): DeviceStats[] {
  const seen = new Set<string>();
  return devices.filter((d) => !seen.has(d.name) && !!seen.add(d.name));
}

/**
 * The stats call of a scrape, under its time limit, never two at once: a
 * scrape that finds a call running (another scraper's, or one that outlived
 * an earlier scrape's limit) waits for that one, within its own limit.
 */
class GuestStatsReader {
  private readonly timeoutMs: number;
  private inFlight: ReturnType<Connection['allDomainStats']> | undefined;

  constructor(
    private readonly o: GuestMetricsOptions,
    private readonly onFailure: () => void,
  ) {
    this.timeoutMs = o.timeoutMs ?? 5000;
  }

  async read(): Promise<Scrape> {
    const t0 = performance.now();
    const done = (guests: GuestStats[], ok: boolean): Scrape => {
      if (!ok) this.onFailure();
      return { guests, ok, seconds: (performance.now() - t0) / 1000 };
    };
    try {
      const conn = this.o.connection();
      if (!conn) return done([], false);
      const records = await withTimeout(
        this.inFlight ?? this.call(conn),
        this.timeoutMs,
        'virConnectGetAllDomainStats',
      );
      return done(
        records.map((r) => parseGuestStats(r.domain.name, r.domain.uuid, r.params)),
        true,
      );
    } catch (e) {
      try {
        this.o.onError?.(e instanceof Error || types.isNativeError(e) ? e : new Error(String(e)));
      } catch {
        // a logger that throws must not take the scrape down with it
      }
      return done([], false);
    }
  }

  private call(conn: Connection): ReturnType<Connection['allDomainStats']> {
    // NOWAIT: libvirt >= 4.5 for qemu; the test driver accepts it too
    const call = conn.allDomainStats(STATS, { nowait: true });
    this.inFlight = call;
    const clear = () => {
      if (this.inFlight === call) this.inFlight = undefined;
    };
    call.then(clear, clear);
    return call;
  }
}
