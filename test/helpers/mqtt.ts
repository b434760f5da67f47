// MQTT test kit: the brokers the transport is tested against, a plain
// mqtt.js client playing the orchestrator / event consumer (not the agent's
// code), and a TCP proxy that cuts connections the way a network does.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient, type OnMessageCallback } from 'mqtt';
import { EventLog } from './events';

export interface BrokerCase {
  name: string;
  protocolVersion: 4 | 5;
  /** sets DUP when it sends an unacknowledged message again (MQTT-3.3.1-1; aedes 1.2 does not) */
  dupOnRedelivery: boolean;
  /** starts or checks the broker; resolves with its URL, rejects with what to start */
  setup(): Promise<string>;
  teardown(): Promise<void>;
}

const MOSQUITTO_URL = process.env.VIRTBUS_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const RABBITMQ_MQTT_URL = process.env.VIRTBUS_TEST_RABBITMQ_MQTT_URL ?? 'mqtt://127.0.0.1:1884';
const START_HINT =
  'start the brokers: `bash scripts/services.sh` (Mosquitto on 1883, RabbitMQ with rabbitmq_mqtt on 1884)';

function external(name: string, url: string, protocolVersion: 4 | 5): BrokerCase {
  return {
    name,
    protocolVersion,
    dupOnRedelivery: true,
    async setup() {
      const c = await TestMqttClient.connect(url, protocolVersion).catch((e: Error) => {
        throw new Error(`${name} is not reachable at ${url} (${e.message}); ${START_HINT}`);
      });
      await c.close();
      return url;
    },
    async teardown() {
      /* not ours to stop */
    },
  };
}

/**
 * aedes in this process. It is ESM-only, and jest's module registry cannot
 * load ESM without --experimental-vm-modules; Node's own require can (Node
 * ≥ 20.19 loads ESM synchronously). process.getBuiltinModule hands us that
 * require untouched by jest.
 */
function aedesBroker(): BrokerCase {
  let stop: (() => Promise<void>) | undefined;
  return {
    name: 'aedes (in process) MQTT 3.1.1',
    protocolVersion: 4,
    dupOnRedelivery: false,
    async setup() {
      const { createRequire } = process.getBuiltinModule('node:module');
      const { Aedes } = createRequire(__filename)('aedes') as { Aedes: { createBroker(): Promise<AedesBroker> } };
      const broker = await Aedes.createBroker();
      const server = net.createServer((s) => broker.handle(s));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      stop = async () => {
        await new Promise((r) => broker.close(() => r(undefined)));
        await new Promise((r) => server.close(() => r(undefined)));
      };
      return `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    },
    async teardown() {
      await stop?.();
    },
  };
}
interface AedesBroker {
  handle(s: net.Socket): void;
  close(cb: () => void): void;
}

/** Every broker the transport must work with. aedes 1.x speaks 3.1.1 only (README: "MQTT 5.0 (not support yet)"). */
export const BROKERS: BrokerCase[] = [
  external('Mosquitto MQTT 5', MOSQUITTO_URL, 5),
  external('Mosquitto MQTT 3.1.1', MOSQUITTO_URL, 4),
  external('RabbitMQ MQTT 3.1.1', RABBITMQ_MQTT_URL, 4),
  aedesBroker(),
];

export const MOSQUITTO_V5 = BROKERS[0];

export interface Received {
  topic: string;
  payload: Buffer;
  packet: Parameters<OnMessageCallback>[2];
  json(): any;
}

/** A plain mqtt.js client with a clean session and a random client id. */
export class TestMqttClient {
  private readonly em = new EventEmitter();
  readonly log = new EventLog<Received>(this.em);

  private constructor(
    readonly client: MqttClient,
    readonly protocolVersion: 4 | 5,
  ) {
    client.on('message', (topic, payload, packet) => {
      this.em.emit('event', { topic, payload, packet, json: () => JSON.parse(payload.toString('utf8')) });
    });
  }

  static async connect(url: string, protocolVersion: 4 | 5, o: Partial<IClientOptions> = {}): Promise<TestMqttClient> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion,
      clientId: `virtbus-test-${randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...o,
    });
    return new TestMqttClient(client, protocolVersion);
  }

  async subscribe(topic: string): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1 });
  }

  async publish(topic: string, payload: Buffer | string, o: IClientPublishOptions = {}): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, ...o });
  }

  waitFor(pred: (m: Received) => boolean, what: string, timeoutMs = 10000, from = 0): Promise<Received> {
    return this.log.waitFor(pred, what, timeoutMs, from);
  }

  async close(): Promise<void> {
    await this.client.endAsync().catch(() => undefined);
  }
}

/** Deletes the broker-side session of clientId (a clean connect does that), so tests leave nothing queued behind. */
export async function forgetSession(url: string, protocolVersion: 4 | 5, clientId: string): Promise<void> {
  const c = await TestMqttClient.connect(url, protocolVersion, {
    clientId,
    clean: true,
    ...(protocolVersion === 5 && { properties: { sessionExpiryInterval: 0 } }),
  }).catch(() => undefined);
  await c?.close();
}

/** Removes a retained message (an empty retained publish does that). */
export async function clearRetained(url: string, protocolVersion: 4 | 5, topic: string): Promise<void> {
  const c = await TestMqttClient.connect(url, protocolVersion).catch(() => undefined);
  await c?.publish(topic, Buffer.alloc(0), { retain: true }).catch(() => undefined);
  await c?.close();
}

/** Everything an agent of that node id leaves on an MQTT broker: its persistent session and its retained status. */
export async function forgetAgent(url: string, protocolVersion: 4 | 5, node: string): Promise<void> {
  await forgetSession(url, protocolVersion, `virtbus-agent-${node}`);
  await clearRetained(url, protocolVersion, `virtbus/v1/${node}/status`);
}

/**
 * A TCP proxy in front of a broker. cut() drops every connection through
 * it without MQTT DISCONNECT (the broker sees the agent vanish, as with a
 * network failure); while blocked, new connections are refused.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private blocked = false;
  private constructor(
    private readonly server: net.Server,
    readonly url: string,
  ) {}

  static async start(brokerUrl: string): Promise<TcpProxy> {
    const target = new URL(brokerUrl);
    const box: { proxy?: TcpProxy } = {};
    const server = net.createServer((client) => {
      const proxy = box.proxy!;
      if (proxy.blocked) {
        client.destroy();
        return;
      }
      const upstream = net.connect(Number(target.port || 1883), target.hostname);
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        proxy.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          proxy.sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    box.proxy = new TcpProxy(server, `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    return box.proxy;
  }

  get connections(): number {
    return this.sockets.size / 2;
  }

  /** Drops all connections; with block, refuses new ones until unblock(). */
  cut(o: { block?: boolean } = {}): void {
    if (o.block) this.blocked = true;
    for (const s of this.sockets) s.destroy();
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut({ block: true });
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}

let seq = 0;
/** A node id no other test (or earlier run) uses. */
export function mqttNodeId(prefix: string): string {
  return `t-${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}

/** A structured CloudEvents command, as an orchestrator sends it. */
export function commandEnvelope(
  command: string,
  data: unknown = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'test-orchestrator',
    type: `virtbus.cmd.${command}`,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
    ...extra,
  };
}
