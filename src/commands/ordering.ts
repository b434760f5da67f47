// The order of commands on one object (a domain, a pool, …): every command
// that changes state runs alone, after everything that arrived before it;
// read-only commands run concurrently with each other, each after the last
// state-changing command that arrived before it — so a write is never
// overtaken by a later read of the old state, and a read issued after a
// write sees it. Commands on different objects run concurrently, at most
// `limit` at once.

export type Access = 'read' | 'write';

interface KeyState {
  /** settles when everything queued on the key so far has settled */
  all: Promise<void>;
  /** settles when the last write queued on the key has settled */
  lastWrite: Promise<void>;
}

const settled = (p: Promise<unknown>): Promise<void> =>
  p.then(
    () => undefined,
    () => undefined,
  );

export class KeyedSerialQueue {
  private readonly keys = new Map<string, KeyState>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /**
   * Runs fn once its turn on the key has come (see the file comment) and a
   * concurrency slot is free. The key is held until fn's promise settles,
   * even if the caller stopped waiting (a timed-out libvirt call still
   * occupies its domain).
   */
  run<T>(key: string, fn: () => Promise<T>, access: Access = 'write'): Promise<T> {
    const k = this.keys.get(key) ?? { all: Promise.resolve(), lastWrite: Promise.resolve() };
    const after = access === 'write' ? k.all : k.lastWrite;
    const result = after.then(() => this.withSlot(fn));
    const done = settled(result);
    const next: KeyState =
      access === 'write'
        ? { all: done, lastWrite: done }
        : { all: Promise.all([k.all, done]).then(() => undefined), lastWrite: k.lastWrite };
    this.keys.set(key, next);
    void next.all.then(() => {
      if (this.keys.get(key) === next) this.keys.delete(key);
    });
    return result;
  }

  get active(): number {
    return this.running;
  }

  /** objects with queued or running commands */
  get busyKeys(): number {
    return this.keys.size;
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
