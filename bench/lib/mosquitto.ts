// A private Mosquitto for the MQTT rows: the system one on 1883 keeps
// Mosquitto's default set_tcp_nodelay false, which adds ~40 ms (Nagle +
// delayed ACK) to every hop. This one listens on a free loopback port with
// TCP_NODELAY and no persistence, and is stopped at the end of its scenario.
import { writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import type { Cleanup } from './cleanup';
import { startChild, sleep } from './proc';
import { tempDir } from './tmp';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true once a TCP connect to 127.0.0.1:port succeeds now, false if refused. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts `mosquitto -c <conf>` on a free port; returns its mqtt:// URL. */
export async function startMosquitto(cleanup: Cleanup, binary = process.env.VIRTBUS_BENCH_MOSQUITTO ?? 'mosquitto') {
  const dir = tempDir('mosquitto', cleanup);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const child = startChild(`mosquitto :${port}`, binary, ['-c', conf], cleanup);
  for (let i = 0; i < 100; i++) {
    if (await accepts(port)) return { url: `mqtt://127.0.0.1:${port}`, port, pid: child.pid };
    const gone = await Promise.race([child.exited.then(() => true), sleep(50).then(() => false)]);
    if (gone) throw new Error(`mosquitto exited at once: ${child.stderrTail()}`);
  }
  throw new Error(`mosquitto did not listen on ${port} within 5 s: ${child.stderrTail()}`);
}
