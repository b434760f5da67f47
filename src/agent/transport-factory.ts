// Chooses the transport from the bus setting: embedded (in-process MQTT
// broker, started here), amqp:// or mqtt://.
import type { AgentConfig } from './config';
import { EMBEDDED_HOST } from './embedded-defaults';
import { AmqpTransport } from '../bus/amqp/transport';
import { startEmbeddedBroker, type EmbeddedBroker } from '../bus/embedded-broker';
import { MqttTransport } from '../bus/mqtt/transport';
import type { Transport } from '../bus/transport';
import type { StatusPayload } from '../bus/mqtt/presence';

export interface BusSetup { transport: Transport; embedded?: EmbeddedBroker }

/** Retained MQTT status: also says how peers reach this node's libvirt (migrate {to}). */
function statusPayload(cfg: AgentConfig): StatusPayload {
  const base = { node: cfg.nodeId, libvirtUri: cfg.advertiseUri ?? cfg.libvirtUri, ...(cfg.advertiseMigrateUri && { migrateUri: cfg.advertiseMigrateUri }) };
  return {
    online: () => Buffer.from(JSON.stringify({ status: 'online', ...base, at: new Date().toISOString() })),
    offline: () => Buffer.from(JSON.stringify({ status: 'offline', ...base, at: new Date().toISOString() })),
    contentType: 'application/json',
  };
}

export async function createTransport(cfg: AgentConfig): Promise<BusSetup> {
  if (cfg.bus === 'embedded') {
    const embedded = await startEmbeddedBroker(EMBEDDED_HOST, cfg.embeddedPort);
    // aedes speaks MQTT 3.1.1 only
    return { embedded, transport: new MqttTransport({ url: embedded.url, nodeId: cfg.nodeId, protocolVersion: 4, maxMessageBytes: cfg.maxOutgoingBytes, statusPayload: statusPayload(cfg) }) };
  }
  const url = new URL(cfg.bus);
  switch (url.protocol) {
    case 'amqp:':
    case 'amqps:':
      return { transport: new AmqpTransport({ url: cfg.bus, nodeId: cfg.nodeId, prefetch: cfg.prefetch, maxMessageBytes: cfg.maxOutgoingBytes }) };
    case 'mqtt:':
    case 'mqtts:':
      return { transport: new MqttTransport({ url: cfg.bus, nodeId: cfg.nodeId, protocolVersion: cfg.mqttVersion as 4 | 5, maxMessageBytes: cfg.maxOutgoingBytes, statusPayload: statusPayload(cfg) }) };
    default:
      throw new Error(`unsupported bus '${url.protocol}' in ${cfg.bus}: use embedded, amqp:// or mqtt://`);
  }
}
