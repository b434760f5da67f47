// Private brokers (scripts/private-broker.sh) for tests that stop, kill or
// reconfigure a broker: a RabbitMQ node or a Mosquitto of the test's own, on
// free ports, beside the system ones (which are never touched). A missing
// broker package makes start() fail with what to install; never a skip.
//
//   const rabbit = await PrivateBroker.up('rabbitmq', 'faults');  // fresh node, ~5 s
//   const { upAt } = await rabbit.restart();                       // clean stop + start, same data
//   await rabbit.down();                                            // in afterAll, always
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

export class PrivateBroker {
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

  get url(): string {
    return this.kind === 'rabbitmq' ? `amqp://virtbus:virtbus@127.0.0.1:${this.port}` : `mqtt://127.0.0.1:${this.port}`;
  }

  /** rabbitmqctl ARGS against this node; resolves with its output. */
  ctl(...args: string[]): Promise<string> {
    if (this.kind !== 'rabbitmq') throw new Error('ctl is for RabbitMQ');
    return script(this.kind, 'ctl', this.name, ...args);
  }

  /** Clean stop (RabbitMQ: rabbitmqctl shutdown; Mosquitto: SIGTERM, persistence saved). */
  async stop(): Promise<void> {
    await script(this.kind, 'stop', this.name);
  }

  /** SIGKILL: a crash. */
  async kill(): Promise<void> {
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

/** Stops every private broker this process started and has not taken down (an afterAll safety net). */
export async function downAll(): Promise<void> {
  await Promise.all([...live].map((b) => b.down()));
}
