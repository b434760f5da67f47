// Durable idempotency in Redis: one key per command id holding its entry as
// JSON. A running entry has no TTL (a long migration must not be forgotten
// half-way); a finished one expires after the window. Ids of running entries
// are also kept in a set, so a restarted agent finds what its predecessor
// left running without scanning the key space.
import type IORedis from 'ioredis';
import type { ReplyData } from '../../contract/events';
import { CommandError } from '../../errors';
import { abandoned } from '../outcome';
import type { DurableIdempotency, IdempotencyEntry } from '../types';
import { idempotencyKey, runningCommandsKey } from './keys';

type Stored = IdempotencyEntry & { boot: string };

// SET NX and SADD as one step: nil when the id was new, else the stored entry.
const BEGIN = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('SADD', KEYS[2], ARGV[2])
  return false
end
return redis.call('GET', KEYS[1])`;

export interface RedisIdempotencyOptions {
  prefix: string;
  node: string;
  bootId: string;
  /** how long a finished command's outcome is kept (ms, default 1 h) */
  windowMs?: number;
}

/** A store failure becomes UNAVAILABLE: without the record a command must not run. */
function unavailable(e: unknown): CommandError {
  return new CommandError(
    'UNAVAILABLE',
    `the command record (Redis) is unavailable: ${e instanceof Error ? e.message : String(e)}`,
  );
}

function parse(text: string | null): Stored | undefined {
  return text ? (JSON.parse(text) as Stored) : undefined;
}

function strip(e: Stored | undefined): IdempotencyEntry | undefined {
  if (!e) return undefined;
  const { boot: _boot, ...entry } = e;
  return entry as IdempotencyEntry;
}

export class RedisIdempotency implements DurableIdempotency {
  private readonly windowMs: number;

  constructor(
    private readonly client: IORedis,
    private readonly o: RedisIdempotencyOptions,
  ) {
    this.windowMs = o.windowMs ?? 60 * 60_000;
  }

  private key(id: string): string {
    return idempotencyKey(this.o.prefix, this.o.node, id);
  }
  private get runningKey(): string {
    return runningCommandsKey(this.o.prefix, this.o.node);
  }

  async get(id: string): Promise<IdempotencyEntry | undefined> {
    try {
      return strip(parse(await this.client.get(this.key(id))));
    } catch (e) {
      throw unavailable(e);
    }
  }

  async begin(id: string, command: string): Promise<'new' | IdempotencyEntry> {
    const entry: Stored = { state: 'running', command, since: Date.now(), boot: this.o.bootId };
    try {
      const known = (await this.client.eval(BEGIN, 2, this.key(id), this.runningKey, JSON.stringify(entry), id)) as
        string | null;
      return known ? strip(parse(known))! : 'new';
    } catch (e) {
      throw unavailable(e);
    }
  }

  async finish(id: string, command: string, reply: ReplyData): Promise<void> {
    const entry: Stored = { state: 'done', command, reply, at: Date.now(), boot: this.o.bootId };
    try {
      await this.client
        .multi()
        .set(this.key(id), JSON.stringify(entry), 'PX', this.windowMs)
        .srem(this.runningKey, id)
        .exec();
    } catch (e) {
      throw unavailable(e);
    }
  }

  async forget(id: string): Promise<void> {
    try {
      await this.client.multi().del(this.key(id)).srem(this.runningKey, id).exec();
    } catch (e) {
      throw unavailable(e);
    }
  }

  /**
   * Entries a previous agent left running that no job stands for: their
   * outcome is unknown, so they become an error outcome (a redelivery must
   * not run the command again). Returns their ids.
   */
  async abandonStale(isJob: (id: string) => Promise<boolean>): Promise<string[]> {
    const ids: string[] = [];
    for (const id of await this.client.smembers(this.runningKey)) {
      const e = parse(await this.client.get(this.key(id)));
      if (!e || e.state !== 'running') {
        await this.client.srem(this.runningKey, id);
      } else if (e.boot !== this.o.bootId && !(await isJob(id))) {
        await this.finish(id, e.command, abandoned(id, e.command));
        ids.push(id);
      }
    }
    return ids;
  }
}
