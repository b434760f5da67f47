// The MQTT 5 baseline: the cheapest responder that does the broker work the
// agent does for a command — QoS 1 subscription with the agent's Receive
// Maximum, reply at QoS 1 to the Response Topic with the Correlation Data,
// PUBACK of the command only once the reply was PUBACKed (as the agent's
// MqttSession does) — with no parsing, validation or libvirt.
import type { Socket } from 'node:net';
import mqtt from 'mqtt';

export interface MqttEchoOptions {
  url: string;
  topic: string;
  /** the agent's default (src/bus/mqtt/options.ts) */
  receiveMaximum: number;
}

/** handleMessage's callback with an error: mqtt.js goes on but sends no PUBACK; we send it later. */
const ACK_LATER = new Error('bench echo: PUBACK deferred');

interface PacketWriter {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode?: number }): void;
}

export async function runMqttEcho(o: MqttEchoOptions): Promise<() => Promise<void>> {
  const client = mqtt.connect(o.url, {
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    properties: { receiveMaximum: o.receiveMaximum },
  });
  client.handleMessage = (packet, done) => {
    const p = packet as typeof packet & {
      topic: string;
      payload: Buffer;
      qos: number;
      messageId?: number;
      properties?: { responseTopic?: string; correlationData?: Buffer; contentType?: string };
    };
    const to = p.properties?.responseTopic;
    if (to) {
      client.publish(
        to,
        p.payload,
        {
          qos: 1,
          properties: {
            ...(p.properties?.correlationData && { correlationData: p.properties.correlationData }),
            ...(p.properties?.contentType && { contentType: p.properties.contentType }),
          },
        },
        (err) => {
          if (!err && p.qos > 0 && p.messageId !== undefined)
            (client as unknown as PacketWriter)._sendPacket({ cmd: 'puback', messageId: p.messageId, reasonCode: 0 });
        },
      );
    }
    done(ACK_LATER);
  };
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  (client.stream as unknown as Partial<Socket>).setNoDelay?.(true);
  await client.subscribeAsync(o.topic, { qos: 1 });
  return async () => {
    await client.endAsync().catch(() => undefined);
  };
}
