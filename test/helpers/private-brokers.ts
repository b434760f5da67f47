// Private brokers (scripts/private-broker.sh) for tests that stop, kill or
// reconfigure a broker: a RabbitMQ node or a Mosquitto of the test's own, on
// free ports, beside the system ones (which are never touched). A missing
// broker package makes start() fail with what to install; never a skip.
//
//   const rabbit = await PrivateBroker.up('rabbitmq', 'faults');  // fresh node, ~5 s
//   const { upAt } = await rabbit.restart();                       // clean stop + start, same data
//   await rabbit.down();                                            // in afterAll, always
//
//   const cluster = await PrivateCluster.up('cluster', 3);       // nodes cluster1…cluster3, joined
//   agentArgs({ bus: cluster.urls, … });                          // every node's URL, comma-separated
//   await cluster.nodes[0].stop(); await cluster.nodes[0].start(); // it rejoins by itself
//   await cluster.queue('virtbus.cmd.n1');                         // type, leader, members, online
//   await cluster.down();                                          // in afterAll, always (downAll too)
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'private-broker.sh');

export type BrokerKind = 'rabbitmq' | 'mosquitto';

/** A TCP port nobody listens on right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Resolves true once a TCP connect to 127.0.0.1:port succeeds (false after timeoutMs), probing every everyMs. */
export async function waitAccepting(port: number, timeoutMs = 60_000, everyMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await accepts(port)) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Runs the script; a trailing object is extra environment. */
function script(...parts: Array<string | NodeJS.ProcessEnv>): Promise<string> {
  const env = typeof parts[parts.length - 1] === 'object' ? (parts.pop() as NodeJS.ProcessEnv) : undefined;
  const args = parts as string[];
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [SCRIPT, ...args],
      { timeout: 180_000, ...(env && { env: { ...process.env, ...env } }) },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new Error(
              `scripts/private-broker.sh ${args.join(' ')} failed (${err.message.split('\n')[0]}): ${stderr.trim().split('\n').slice(-15).join('\n')}`,
            ),
          );
        } else {
          resolve(stdout.trim());
        }
      },
    );
  });
}

const live = new Set<PrivateBroker>();
const liveClusters = new Set<PrivateCluster>();

export class PrivateBroker {
  /** false after stop() or kill() until start() (what this handle did; not probed) */
  running = true;

  private constructor(
    readonly kind: BrokerKind,
    readonly name: string,
    readonly port: number,
    /** RabbitMQ's MQTT-over-TLS port, when started with mqtts */
    readonly mqttsPort?: number,
  ) {}

  /**
   * A fresh broker (a leftover of an earlier run of the same name is
   * stopped and wiped first). RabbitMQ: user virtbus/virtbus on vhost /.
   */
  /**
   * tlsDir: TLS only, with the certificates of scripts/test-certs.sh there (see
   * private-broker.sh); mqtts: RabbitMQ also speaks MQTT over TLS, on mqttsPort.
   */
  static async up(
    kind: BrokerKind,
    name: string,
    o: { tlsDir?: string; mqtts?: boolean } = {},
  ): Promise<PrivateBroker> {
    const port = await freePort();
    const extra = kind === 'rabbitmq' ? [String(await freePort())] : [];
    const mqttsPort = o.mqtts ? await freePort() : undefined;
    const env = {
      ...(o.tlsDir && { VIRTBUS_BROKER_TLS_DIR: o.tlsDir }),
      ...(mqttsPort && { VIRTBUS_BROKER_MQTTS_PORT: String(mqttsPort) }),
    };
    try {
      await script(kind, 'up', name, String(port), ...extra, ...(Object.keys(env).length ? [env] : []));
    } catch (e) {
      await script(kind, 'down', name).catch(() => undefined);
      const what = kind === 'rabbitmq' ? 'RabbitMQ (rabbitmq-server)' : 'Mosquitto';
      throw new Error(
        `cannot start a private ${what} for this test; it needs root and the broker installed ` +
          `(\`bash scripts/services.sh\` installs it): ${(e as Error).message}`,
      );
    }
    const b = new PrivateBroker(kind, name, port, mqttsPort);
    live.add(b);
    return b;
  }

  /** A handle on a node of a cluster that cluster-up started (PrivateCluster). */
  static member(name: string, port: number): PrivateBroker {
    return new PrivateBroker('rabbitmq', name, port);
  }

  get url(): string {
    return this.kind === 'rabbitmq' ? `amqp://virtbus:virtbus@127.0.0.1:${this.port}` : `mqtt://127.0.0.1:${this.port}`;
  }

  /** RabbitMQ's name of the node: virtbus-NAME@localhost */
  get rabbitNode(): string {
    return `virtbus-${this.name}@localhost`;
  }

  /** rabbitmqctl ARGS against this node; resolves with its output. */
  ctl(...args: string[]): Promise<string> {
    if (this.kind !== 'rabbitmq') throw new Error('ctl is for RabbitMQ');
    return script(this.kind, 'ctl', this.name, ...args);
  }

  /** Clean stop (RabbitMQ: rabbitmqctl shutdown; Mosquitto: SIGTERM, persistence saved). */
  async stop(): Promise<void> {
    this.running = false;
    await script(this.kind, 'stop', this.name);
  }

  /** SIGKILL: a crash. */
  async kill(): Promise<void> {
    this.running = false;
    await script(this.kind, 'kill', this.name);
  }

  /**
   * Starts it again with the same ports and data; resolves with the moment
   * its port first accepted a TCP connection (probed every 10 ms while it
   * boots), which is when "the broker is back".
   */
  async start(): Promise<{ upAt: number }> {
    let upAt = 0;
    let done = false;
    const probe = (async () => {
      while (!done && !upAt) {
        if (await accepts(this.port)) upAt = Date.now();
        else await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      await script(this.kind, 'start', this.name);
      if (!upAt && (await accepts(this.port))) upAt = Date.now();
    } finally {
      done = true;
      await probe;
    }
    if (!upAt)
      throw new Error(`${this.kind} ${this.name} started but its port ${this.port} does not accept connections`);
    this.running = true;
    return { upAt };
  }

  /** stop, wait pauseMs (the outage), start; resolves with when it stopped and when it accepted connections again. */
  async restart(pauseMs = 0): Promise<{ stoppedAt: number; upAt: number }> {
    await this.stop();
    const stoppedAt = Date.now();
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    const { upAt } = await this.start();
    return { stoppedAt, upAt };
  }

  async pid(): Promise<number | undefined> {
    const out = await script(this.kind, 'pid', this.name).catch(() => '');
    return out ? Number(out) : undefined;
  }

  /** Stops it and deletes its data folder. Never throws. */
  async down(): Promise<void> {
    live.delete(this);
    await script(this.kind, 'down', this.name).catch((e) => process.stderr.write(`${(e as Error).message}\n`));
  }
}

/** What `rabbitmqctl list_queues name type leader members online` says about a queue. */
export interface QueueInfo {
  name: string;
  type: string;
  /** RabbitMQ node name (virtbus-NAME@localhost) of the quorum queue's leader */
  leader?: string;
  /** node names of every member, running or not */
  members: string[];
  /** node names of the members that are running */
  online: string[];
}

/**
 * A RabbitMQ cluster of private nodes (private-broker.sh cluster-up): nodes
 * NAME1…NAMEn on free ports, each a PrivateBroker (stop/start/kill/ctl); a
 * node started again rejoins by itself. rabbitmqctl questions about the
 * cluster go to a node this handle has not stopped.
 */
export class PrivateCluster {
  private constructor(
    readonly name: string,
    readonly nodes: PrivateBroker[],
  ) {}

  /** A fresh cluster of n nodes (leftovers of an earlier run of the same name are taken down first). */
  static async up(name: string, n = 3): Promise<PrivateCluster> {
    const ports: Array<[number, number]> = [];
    const taken = new Set<number>();
    while (ports.length < n) {
      const p = await freePort();
      const d = await freePort();
      if (p === d || taken.has(p) || taken.has(d)) continue;
      taken.add(p).add(d);
      ports.push([p, d]);
    }
    try {
      await script('rabbitmq', 'cluster-up', name, ...ports.map(([p, d]) => `${p}:${d}`));
    } catch (e) {
      await script('rabbitmq', 'cluster-down', name).catch(() => undefined);
      throw new Error(
        `cannot start a private ${n}-node RabbitMQ cluster for this test; it needs root and rabbitmq-server installed ` +
          `(\`bash scripts/services.sh\` installs it): ${(e as Error).message}`,
      );
    }
    const c = new PrivateCluster(
      name,
      ports.map(([p], i) => PrivateBroker.member(`${name}${i + 1}`, p)),
    );
    liveClusters.add(c);
    return c;
  }

  /** Every node's URL, comma-separated: what --bus takes. */
  get urls(): string {
    return this.nodes.map((b) => b.url).join(',');
  }

  /** The node of that RabbitMQ node name (virtbus-NAME2@localhost) or of that AMQP port. */
  node(which: string | number): PrivateBroker {
    const b = this.nodes.find((x) => (typeof which === 'number' ? x.port === which : x.rabbitNode === which));
    if (!b) throw new Error(`no node ${which} in cluster ${this.name}`);
    return b;
  }

  /** rabbitmqctl ARGS on the first node this handle has not stopped. */
  ctl(...args: string[]): Promise<string> {
    const b = this.nodes.find((x) => x.running);
    if (!b) throw new Error(`every node of cluster ${this.name} is stopped`);
    return b.ctl(...args);
  }

  /** The running nodes' names, as the cluster sees them. */
  async runningNodes(): Promise<string[]> {
    const status = JSON.parse(await this.ctl('cluster_status', '--formatter', 'json')) as { running_nodes: string[] };
    return [...status.running_nodes].sort();
  }

  /** Every queue's type and, for quorum queues, leader and members. */
  async queues(): Promise<QueueInfo[]> {
    const rows = JSON.parse(
      (await this.ctl('list_queues', 'name', 'type', 'leader', 'members', 'online', '--formatter', 'json')) || '[]',
    ) as Array<{
      name: string;
      type: string;
      leader?: string;
      members?: string[] | string;
      online?: string[] | string;
    }>;
    // a classic queue has '' for what only quorum queues have
    const list = (v: string[] | string | undefined) => (Array.isArray(v) ? [...v].sort() : []);
    return rows.map((r) => ({
      name: r.name,
      type: r.type,
      ...(typeof r.leader === 'string' && r.leader !== '' && { leader: r.leader }),
      members: list(r.members),
      online: list(r.online),
    }));
  }

  /** The queue's type and, for a quorum queue, its leader and members; undefined when it does not exist. */
  async queue(name: string): Promise<QueueInfo | undefined> {
    return (await this.queues()).find((q) => q.name === name);
  }

  /** The node that leads the quorum queue now (undefined: none, e.g. mid-election). */
  async leaderOf(queue: string): Promise<PrivateBroker | undefined> {
    const q = await this.queue(queue);
    return q?.leader ? this.nodes.find((b) => b.rabbitNode === q.leader) : undefined;
  }

  /** The nodes holding a connection whose client-provided name is connectionName (e.g. virtbus-agent-<node>). */
  async connectedTo(connectionName: string): Promise<PrivateBroker[]> {
    // client_properties: [[key, type, value], …]; port: the node's AMQP port the connection came in on
    const rows = JSON.parse(
      (await this.ctl('list_connections', 'client_properties', 'port', '--formatter', 'json')) || '[]',
    ) as Array<{ client_properties: Array<[string, string, unknown]>; port: number }>;
    return rows
      .filter((r) => r.client_properties.some(([k, , v]) => k === 'connection_name' && v === connectionName))
      .map((r) => this.node(Number(r.port)));
  }

  /**
   * Moves the quorum queue's leadership to that node (what RabbitMQ's
   * maintenance mode does to drain a node); resolves once it leads there.
   */
  async transferLeadership(queue: string, to: PrivateBroker, timeoutMs = 15_000): Promise<void> {
    const name = queue.replace(/[\\"]/g, '');
    const end = Date.now() + timeoutMs;
    for (;;) {
      await this.ctl(
        'eval',
        `{ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<"${name}">>)), ` +
          `rabbit_quorum_queue:transfer_leadership(Q, '${to.rabbitNode}').`,
      );
      if ((await this.queue(queue))?.leader === to.rabbitNode) return;
      if (Date.now() > end) throw new Error(`the leadership of ${queue} did not move to ${to.rabbitNode}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Stops every node and deletes their folders. Never throws. */
  async down(): Promise<void> {
    liveClusters.delete(this);
    await script('rabbitmq', 'cluster-down', this.name).catch((e) => process.stderr.write(`${(e as Error).message}\n`));
  }
}

/** Stops every private broker and cluster this process started and has not taken down (an afterAll safety net). */
export async function downAll(): Promise<void> {
  await Promise.all([...live].map((b) => b.down()));
  await Promise.all([...liveClusters].map((c) => c.down()));
}
