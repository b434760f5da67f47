// The embedded default's MQTT broker: aedes, in the agent's process, on
// loopback. It speaks MQTT 3.1.1 (aedes has no MQTT 5), so the embedded
// agent and its clients use 3.1.1: structured CloudEvents with replyto and
// correlationid in the envelope. Its sessions live in memory only.
import { createServer, type Server } from 'node:net';

export interface EmbeddedBroker {
  url: string;
  close(): Promise<void>;
}

export class PortTakenError extends Error {}

export async function startEmbeddedBroker(host: string, port: number): Promise<EmbeddedBroker> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when used
  const { Aedes } = require('aedes') as {
    Aedes: { createBroker(o?: object): Promise<{ handle: (s: unknown) => void; close(cb?: () => void): void }> };
  };
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      broker.close();
      reject(
        e.code === 'EADDRINUSE'
          ? new PortTakenError(
              `port ${port} on ${host} is taken (another MQTT broker?): choose another with --embedded-port, or use that broker with --bus mqtt://${host}:${port}`,
            )
          : e,
      );
    });
    server.listen(port, host, () => resolve());
  });
  return {
    url: `mqtt://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        broker.close();
      }),
  };
}
