// Chooses the transport from the bus URL's scheme.
import type { AgentConfig } from '../agent/config';
import { AmqpTransport } from './amqp/transport';
import type { Transport } from './transport';

export function createTransport(cfg: AgentConfig): Transport {
  const url = new URL(cfg.bus);
  switch (url.protocol) {
    case 'amqp:':
    case 'amqps:':
      return new AmqpTransport({ url: cfg.bus, nodeId: cfg.nodeId, prefetch: cfg.prefetch, maxMessageBytes: cfg.maxMessageBytes });
    default:
      throw new Error(`unsupported bus '${url.protocol}' in ${cfg.bus}: use amqp://`);
  }
}
