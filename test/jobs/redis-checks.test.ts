// What the BullMQ backend checks on Redis at start. A second, throw-away
// redis-server (on a unix socket, so no port is taken) is configured the way
// the warnings are about.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BullJobBackend, JobRunners, type BackendWarning } from '../../src/jobs';
import { eventually } from '../helpers/events';
import { deleteNodeKeys, REDIS_URL, requireRedis, uniq } from './support/backends';

describe('Redis configuration checks', () => {
  let dir: string;
  let server: ChildProcess | undefined;

  beforeAll(requireRedis);
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('warns through the warning event, not the console, when Redis may evict or forget jobs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'virtbus-redis-'));
    const socket = join(dir, 'redis.sock');
    server = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--unixsocket',
        socket,
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory',
        '64mb',
        '--maxmemory-policy',
        'allkeys-lru',
      ],
      { stdio: 'ignore' },
    );
    server.on('error', (e) => {
      throw new Error(`cannot start redis-server (${e.message}); install redis-server`);
    });
    await eventually(async () => existsSync(socket), 'the throw-away redis-server to listen', 10000, 50);

    const warnings: BackendWarning[] = [];
    const console = jest.spyOn(global.console, 'warn');
    const b = new BullJobBackend({ node: uniq('evict'), redis: { path: socket }, runners: new JobRunners() });
    b.on('warning', (w) => warnings.push(w));
    try {
      await b.start();
      expect(warnings.map((w) => w.code).sort()).toEqual(['REDIS_EVICTION_POLICY', 'REDIS_NOT_PERSISTENT']);
      expect(warnings.find((w) => w.code === 'REDIS_EVICTION_POLICY')!.message).toMatch(/allkeys-lru.*noeviction/);
      expect(console).not.toHaveBeenCalled();
    } finally {
      console.mockRestore();
      await b.close();
    }
  });

  test('no eviction warning with noeviction (the shared test Redis)', async () => {
    const warnings: BackendWarning[] = [];
    const node = uniq('noevict');
    const b = new BullJobBackend({ node, redis: REDIS_URL, runners: new JobRunners() });
    b.on('warning', (w) => warnings.push(w));
    try {
      await b.start();
      expect(warnings.map((w) => w.code)).not.toContain('REDIS_EVICTION_POLICY');
    } finally {
      await b.close();
      await deleteNodeKeys(node);
    }
  });
});
