// A small virtbus client (SDK) for programs and the `virtbus` CLI: send a
// command to a node and get its reply, or watch a node's events, over AMQP or
// MQTT. It speaks contract v1 exactly as any other-language client would.
import type { ClientOptions, VirtbusClient } from './types';
import { describeEndpoint, schemeFamily, toEndpoint } from '../endpoint';

export type { CallOptions, ClientOptions, VirtbusClient } from './types';
export { commandEnvelope } from './types';

export async function connectClient(o: ClientOptions): Promise<VirtbusClient> {
  const endpoint = toEndpoint(o.endpoint);
  const family = schemeFamily(endpoint);
  if (family === 'amqp') return (await import('./amqp-client')).AmqpClient.connect(o, endpoint);
  if (family === 'mqtt') return (await import('./mqtt-client')).MqttClient.connect(o, endpoint);
  throw new Error(`unsupported bus ${describeEndpoint(endpoint)}: use amqp:// or mqtt://`);
}
