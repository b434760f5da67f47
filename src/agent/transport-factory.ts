// Chooses the transport from the bus setting: embedded (in-process MQTT
// broker, started here), amqp:// or mqtt://. Only the chosen transport's
// client library is loaded (amqplib or mqtt.js: memory, start time).
import type { AgentConfig } from './config';
import { describeEndpoint, schemeFamily, toEndpoint, type Endpoint } from '../endpoint';
import { EMBEDDED_HOST } from './embedded-defaults';
import { startEmbeddedBroker, type EmbeddedBroker } from '../bus/embedded-broker';
import type { Transport } from '../bus/transport';
import type { StatusPayload } from '../bus/mqtt/presence';

export interface BusSetup {
  transport: Transport;
  /** how to reach the bus (the embedded broker's URL for 'embedded'): the presence watch uses it too */
  endpoint: Endpoint;
  embedded?: EmbeddedBroker;
}

/** Retained MQTT status: also says how peers reach this node's libvirt (migrate {to}). */
function statusPayload(cfg: AgentConfig): StatusPayload {
  const base = {
    node: cfg.nodeId,
    libvirtUri: cfg.advertiseUri ?? cfg.libvirtUri,
    ...(cfg.advertiseMigrateUri && { migrateUri: cfg.advertiseMigrateUri }),
  };
  return {
    online: () => Buffer.from(JSON.stringify({ status: 'online', ...base, at: new Date().toISOString() })),
    offline: () => Buffer.from(JSON.stringify({ status: 'offline', ...base, at: new Date().toISOString() })),
    contentType: 'application/json',
  };
}

/** bus: the configuration's bus endpoint (endpointsOf), undefined for the embedded broker. */
export async function createTransport(cfg: AgentConfig, bus: Endpoint | undefined): Promise<BusSetup> {
  if (!bus) {
    const embedded = await startEmbeddedBroker(EMBEDDED_HOST, cfg.embeddedPort);
    // aedes speaks MQTT 3.1.1 only
    return {
      embedded,
      endpoint: toEndpoint(embedded.url),
      transport: new (await import('../bus/mqtt/transport')).MqttTransport({
        endpoint: embedded.url,
        nodeId: cfg.nodeId,
        protocolVersion: 4,
        maxMessageBytes: cfg.maxOutgoingBytes,
        statusPayload: statusPayload(cfg),
      }),
    };
  }
  const endpoint = bus;
  switch (schemeFamily(endpoint)) {
    case 'amqp':
      return {
        endpoint,
        transport: new (await import('../bus/amqp/transport')).AmqpTransport({
          endpoint,
          nodeId: cfg.nodeId,
          prefetch: cfg.prefetch,
          maxMessageBytes: cfg.maxOutgoingBytes,
          topology: cfg.topology as 'declare' | 'passive',
          auth: cfg.amqpAuth as 'plain' | 'external',
        }),
      };
    case 'mqtt':
      return {
        endpoint,
        transport: new (await import('../bus/mqtt/transport')).MqttTransport({
          endpoint,
          nodeId: cfg.nodeId,
          protocolVersion: cfg.mqttVersion as 4 | 5,
          maxMessageBytes: cfg.maxOutgoingBytes,
          statusPayload: statusPayload(cfg),
          replyTopicPrefix: cfg.replyTopicPrefix,
        }),
      };
    default:
      throw new Error(`unsupported bus ${describeEndpoint(endpoint)}: use embedded, amqp:// or mqtt://`);
  }
}
