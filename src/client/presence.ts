// Reading the fleet's presence as the broker keeps it (the AMQP presence log,
// MQTT's retained statuses): the parts both clients share.
import type { PresenceSeen } from './types';
import { isNodeId } from '../contract/addresses';
import { CE_PROTOBUF } from '../contract/envelope';
import { codecFor, mediaType } from '../codec/codec';

/**
 * A presence record from a presence event (a CloudEvent in structured JSON)
 * or a bare presence data object (MQTT's retained status); undefined for
 * anything else — the read goes on past a record it cannot use.
 */
export function presenceOf(
  body: Buffer | unknown,
  liveness: PresenceSeen['liveness'],
  contentType?: string,
): PresenceSeen | undefined {
  let v: unknown = body;
  if (Buffer.isBuffer(body)) {
    try {
      // agents started with --encoding protobuf publish their events in binary
      v =
        contentType && mediaType(contentType) === CE_PROTOBUF
          ? codecFor(contentType)!.decode(body)
          : JSON.parse(body.toString());
    } catch {
      return undefined;
    }
  }
  if (!v || typeof v !== 'object') return undefined;
  const outer = v as Record<string, unknown>;
  const data = (outer.specversion ? outer.data : outer) as Record<string, unknown> | undefined;
  if (!data || typeof data !== 'object' || typeof data.node !== 'string' || !isNodeId(data.node)) return undefined;
  const at = Date.parse(String(data.at ?? outer.time ?? ''));
  return { node: data.node, data, at: Number.isFinite(at) ? at : Date.now(), liveness };
}
