// A small virtbus client (SDK) for programs and the `virtbus` CLI: send a
// command to a node and get its reply, or watch a node's events, over AMQP or
// MQTT. It speaks contract v1 exactly as any other-language client would.
import type { ClientOptions, VirtbusClient } from './types';

export type { CallOptions, ClientOptions, VirtbusClient } from './types';
export { commandEnvelope } from './types';

export async function connectClient(o: ClientOptions): Promise<VirtbusClient> {
  const scheme = new URL(o.url).protocol;
  if (scheme === 'amqp:' || scheme === 'amqps:') return (await import('./amqp-client')).AmqpClient.connect(o);
  if (scheme === 'mqtt:' || scheme === 'mqtts:') return (await import('./mqtt-client')).MqttClient.connect(o);
  throw new Error(`unsupported bus '${scheme}': use amqp:// or mqtt://`);
}
