// Guest metrics from the bulk stats call, scraped from a real prom-client
// registry: against the lab's libvirtd (qemu:///system) with a running guest
// that has a disk and a network interface, compared with `virsh domstats`;
// against test:///default with several domains; and scrapes that must still
// answer — no connection, a closed one, and a libvirtd that stops answering
// (a unix-socket relay in front of the lab's libvirtd that the test freezes).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Connection, type Domain } from '../../src/libvirt';
import { guestMetrics, GUEST_SERIES, type GuestMetricsOptions } from '../../src/metrics/guests';
import { TimeoutError } from '../../src/timeout';
import { cleanupAll } from '../helpers/cleanup';
import { LAB_DIR, NODE1_URI, guestXml, labUniq, openNode, removeGuest, virsh } from '../helpers/lab';

/** One line of the text exposition format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape(register: Registry) {
  const text = await register.metrics();
  const { samples, types } = parse(text);
  const of = (name: string, labels: Record<string, string> = {}) =>
    samples.filter(
      (s) => s.name === `virtbus_guest_${name}` && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  const value = (name: string, labels: Record<string, string> = {}) => {
    const found = of(name, labels);
    if (found.length !== 1)
      throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)} in:\n${text}`);
    return found[0]!.value;
  };
  return { text, samples, types, of, value };
}

function registry(o: GuestMetricsOptions): Registry {
  const register = new Registry();
  guestMetrics(register, o);
  return register;
}

/** `virsh domstats` of one guest as key → value (numbers where they are numbers). */
function domstats(uri: string, name: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const line of virsh(uri, 'domstats', name).split('\n')) {
    const m = /^\s+([^=\s]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = /^-?\d+(\.\d+)?$/.test(m[2]!) ? Number(m[2]) : m[2]!;
  }
  return out;
}
const num = (s: Record<string, string | number>, key: string) => {
  const v = s[key];
  if (typeof v !== 'number') throw new Error(`virsh domstats has no number ${key}: ${JSON.stringify(s)}`);
  return v;
};

/** `promtool check metrics` accepts the scrape (scripts/promtool.sh installs promtool; npm test runs it). */
function promtoolCheck(text: string): void {
  try {
    execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string; code?: string };
    if (err.code === 'ENOENT') throw new Error('promtool is missing: run `bash scripts/promtool.sh` (npm test does)');
    throw new Error(`promtool check metrics failed (${err.status}): ${err.stdout}${err.stderr}`);
  }
}

describe('guest metrics on the lab libvirtd (qemu:///system) with a running guest', () => {
  let conn: Connection;
  let dom: Domain;
  const name = labUniq('metrics');
  const disk = join(LAB_DIR, `${name}.qcow2`);

  beforeAll(async () => {
    conn = await openNode(NODE1_URI);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
    // the lab guest plus a tap interface that is connected to nothing (type ethernet needs no network)
    const xml = guestXml(name, disk).replace(
      '<serial ',
      `<interface type='ethernet'><model type='virtio'/></interface>\n    <serial `,
    );
    dom = await conn.defineDomain(xml);
    await dom.start();
  });

  afterAll(() =>
    cleanupAll([
      ['remove the guest', () => removeGuest(name, { node1: conn })],
      ['remove its disk', () => rmSync(disk, { force: true })],
      ['close node 1', () => conn?.close()],
    ]),
  );

  test('one NOWAIT stats call per scrape; every value as virsh domstats has it; promtool accepts it', async () => {
    const errors: Error[] = [];
    const register = registry({ connection: () => conn, onError: (e) => errors.push(e) });
    const calls = jest.spyOn(conn, 'allDomainStats');

    // counters read between two virsh reads lie between them
    const before = domstats(NODE1_URI, name);
    const s = await scrape(register);
    const after = domstats(NODE1_URI, name);

    expect(calls).toHaveBeenCalledTimes(1);
    expect(calls.mock.calls[0]![1]).toEqual({ nowait: true });
    calls.mockRestore();
    expect(errors).toEqual([]);
    expect(s.value('scrape_success')).toBe(1);
    expect(s.value('scrape_errors_total')).toBe(0);
    expect(s.value('scrape_duration_seconds')).toBeGreaterThan(0);
    expect(s.value('scrape_duration_seconds')).toBeLessThan(5);

    const guest = { domain: name, uuid: dom.uuid };
    expect(s.value('state', guest)).toBe(num(after, 'state.state'));
    expect(s.value('state', guest)).toBe(1); // running
    const cpu = s.value('cpu_seconds_total', guest);
    expect(cpu).toBeGreaterThanOrEqual(num(before, 'cpu.time') / 1e9);
    expect(cpu).toBeLessThanOrEqual(num(after, 'cpu.time') / 1e9);
    expect(s.value('vcpus', guest)).toBe(num(after, 'vcpu.current'));
    expect(s.value('vcpus_maximum', guest)).toBe(num(after, 'vcpu.maximum'));
    expect(s.value('memory_maximum_bytes', guest)).toBe(num(after, 'balloon.maximum') * 1024);
    expect(s.value('memory_maximum_bytes', guest)).toBe(256 * 1024 * 1024); // the lab guest's <memory>
    expect(s.value('memory_current_bytes', guest)).toBe(num(after, 'balloon.current') * 1024);
    expect(s.value('memory_rss_bytes', guest)).toBeGreaterThan(0);

    // block devices: the same names as virsh's, each counter between the two reads
    const disks = Array.from({ length: num(after, 'block.count') }, (_, i) => after[`block.${i}.name`]);
    expect(disks).toEqual(['vda']);
    expect(s.of('block_read_bytes_total', guest).map((x) => x.labels.device)).toEqual(disks);
    for (const [metric, field] of [
      ['block_read_bytes_total', 'rd.bytes'],
      ['block_write_bytes_total', 'wr.bytes'],
      ['block_read_requests_total', 'rd.reqs'],
      ['block_write_requests_total', 'wr.reqs'],
    ] as const) {
      const v = s.value(metric, { ...guest, device: 'vda' });
      expect(v).toBeGreaterThanOrEqual(num(before, `block.0.${field}`));
      expect(v).toBeLessThanOrEqual(num(after, `block.0.${field}`));
    }

    // the interface, by its host-side name
    expect(num(after, 'net.count')).toBe(1);
    const ifname = after['net.0.name'] as string;
    expect(ifname).toMatch(/^vnet\d+$/);
    for (const [metric, field] of [
      ['network_receive_bytes_total', 'rx.bytes'],
      ['network_transmit_bytes_total', 'tx.bytes'],
      ['network_receive_packets_total', 'rx.pkts'],
      ['network_transmit_packets_total', 'tx.pkts'],
      ['network_receive_errors_total', 'rx.errs'],
      ['network_transmit_errors_total', 'tx.errs'],
      ['network_receive_drops_total', 'rx.drop'],
      ['network_transmit_drops_total', 'tx.drop'],
    ] as const) {
      const v = s.value(metric, { ...guest, interface: ifname });
      expect(v).toBeGreaterThanOrEqual(num(before, `net.0.${field}`));
      expect(v).toBeLessThanOrEqual(num(after, `net.0.${field}`));
    }

    // every declared series is there with its type; counters and only counters end in _total
    for (const d of GUEST_SERIES) {
      expect(s.types.get(`virtbus_guest_${d.name}`)).toBe(d.type);
      expect(d.name.endsWith('_total')).toBe(d.type === 'counter');
    }
    expect(s.types.get('virtbus_guest_scrape_errors_total')).toBe('counter');
    promtoolCheck(s.text);

    // a later scrape reads again (cpu time only grows) and still in one call
    const again = jest.spyOn(conn, 'allDomainStats');
    const s2 = await scrape(register);
    expect(again).toHaveBeenCalledTimes(1);
    again.mockRestore();
    expect(s2.value('cpu_seconds_total', guest)).toBeGreaterThanOrEqual(cpu);
  });
});

describe('guest metrics on test:///default (several domains)', () => {
  let conn: Connection;
  const testXml = (n: string) =>
    `<domain type='test'><name>${n}</name><memory unit='MiB'>128</memory><vcpu>2</vcpu>` +
    `<os><type arch='x86_64'>hvm</type></os></domain>`;

  beforeAll(async () => {
    conn = await Connection.open('test:///default');
  });
  afterAll(() => conn?.close());

  test('every domain with its state, the ones it has no data for left out', async () => {
    // the driver's own "test" domain (running), one more running, one defined only
    await (await conn.defineDomain(testXml('vb-running'))).start();
    await conn.defineDomain(testXml('vb-shutoff'));
    const register = registry({ connection: () => conn });
    const s = await scrape(register);

    expect(s.value('scrape_success')).toBe(1);
    const states = Object.fromEntries(s.of('state').map((x) => [x.labels.domain, x.value]));
    expect(states).toEqual({ test: 1, 'vb-running': 1, 'vb-shutoff': 5 });
    // the default test domain's fixed UUID, as virsh sees it in its own test:///default
    expect(s.of('state', { domain: 'test' })[0]!.labels.uuid).toBe(virsh('test:///default', 'domuuid', 'test').trim());
    for (const x of s.of('state')) expect(x.labels.uuid).toBe((await conn.domain(x.labels.domain!)).uuid);
    // a driver without those stats: the families are declared, with no samples
    expect(s.types.get('virtbus_guest_cpu_seconds_total')).toBe('counter');
    expect(s.of('cpu_seconds_total')).toEqual([]);
    expect(s.of('block_read_bytes_total')).toEqual([]);
    promtoolCheck(s.text);

    // a guest gone is gone from the next scrape (no stale series)
    const gone = await conn.domain('vb-shutoff');
    await gone.undefine();
    const s2 = await scrape(register);
    expect(
      s2
        .of('state')
        .map((x) => x.labels.domain)
        .sort(),
    ).toEqual(['test', 'vb-running']);
  });

  test('no connection, or a closed one: the scrape answers with success 0 and no guests', async () => {
    let current: Connection | undefined;
    const errors: Error[] = [];
    const register = registry({ connection: () => current, onError: (e) => errors.push(e) });

    let s = await scrape(register);
    expect(s.value('scrape_success')).toBe(0);
    expect(s.value('scrape_errors_total')).toBe(1);
    expect(s.of('state')).toEqual([]);
    expect(errors).toEqual([]); // no connection is a state, not an error to log at every scrape

    const closed = await Connection.open('test:///default');
    await closed.close();
    current = closed;
    s = await scrape(register);
    expect(s.value('scrape_success')).toBe(0);
    expect(s.value('scrape_errors_total')).toBe(2);
    expect(errors.map((e) => e.message)).toEqual(['connection is closed']);

    current = conn;
    s = await scrape(register);
    expect(s.value('scrape_success')).toBe(1);
    expect(s.value('scrape_errors_total')).toBe(2);
    expect(s.value('state', { domain: 'test' })).toBe(1);
  });
});

/**
 * A unix socket relaying to the lab's libvirtd; while frozen it holds what
 * the client sends, so libvirt calls through it hang as on a stuck daemon.
 */
class FreezableRelay {
  private frozen = false;
  private held: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();
  private constructor(
    readonly path: string,
    private readonly server: Server,
  ) {}

  static async start(path: string, upstream: string): Promise<FreezableRelay> {
    const server = createServer();
    const relay = new FreezableRelay(path, server);
    server.on('connection', (client) => {
      const up = createConnection(upstream);
      relay.sockets.add(client).add(up);
      client.on('data', (d) => (relay.frozen ? relay.held.push(() => up.write(d)) : up.write(d)));
      up.on('data', (d) => client.write(d));
      const end = () => {
        client.destroy();
        up.destroy();
      };
      client.on('close', end).on('error', end);
      up.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
    return relay;
  }

  freeze(): void {
    this.frozen = true;
  }
  thaw(): void {
    this.frozen = false;
    for (const send of this.held.splice(0)) send();
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('guest metrics when libvirtd stops answering', () => {
  let dir: string;
  let relay: FreezableRelay | undefined;
  let conn: Connection | undefined;

  afterAll(() =>
    cleanupAll([
      ['thaw the relay', () => relay?.thaw()],
      ['close the connection', () => conn?.close()],
      ['close the relay', () => relay?.close()],
      ['remove its directory', () => dir && rmSync(dir, { recursive: true, force: true })],
    ]),
  );

  test('a scrape answers within its time limit, the next waits for the same call, and it recovers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vb-metrics-'));
    relay = await FreezableRelay.start(join(dir, 'libvirt.sock'), '/run/libvirt/libvirt-sock');
    conn = await openNode(`qemu+unix:///system?socket=${relay.path}`);
    const errors: Error[] = [];
    const register = registry({ connection: () => conn, timeoutMs: 500, onError: (e) => errors.push(e) });
    const calls = jest.spyOn(conn, 'allDomainStats');

    expect((await scrape(register)).value('scrape_success')).toBe(1);

    relay.freeze();
    let t0 = performance.now();
    let s = await scrape(register);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(s.value('scrape_success')).toBe(0);
    expect(s.value('scrape_errors_total')).toBe(1);
    expect(s.value('scrape_duration_seconds')).toBeGreaterThanOrEqual(0.49);
    expect(s.of('state')).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TimeoutError);

    // still stuck: this scrape waits for the call already running instead of starting another
    t0 = performance.now();
    s = await scrape(register);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(s.value('scrape_success')).toBe(0);
    expect(s.value('scrape_errors_total')).toBe(2);
    expect(calls).toHaveBeenCalledTimes(2);

    relay.thaw();
    s = await scrape(register);
    expect(s.value('scrape_success')).toBe(1);
    expect(s.value('scrape_errors_total')).toBe(2);
    expect(calls.mock.calls.length).toBeLessThanOrEqual(3);
    calls.mockRestore();
  });
});
