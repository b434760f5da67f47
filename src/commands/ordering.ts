// The order of commands on one object (a domain, a pool, …): every command
// that changes state runs alone, after everything that arrived before it;
// read-only commands run concurrently with each other, each after the last
// state-changing command that arrived before it — so a write is never
// overtaken by a later read of the old state, and a read issued after a
// write sees it. Commands on different objects run concurrently, at most
// `limit` at once.

export type Access = 'read' | 'write';

/** A place taken on a key: run it once, or release it. */
export interface Turn {
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** gives the place up without running (a no-op once run) */
  release(): void;
}

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
    return this.reserve(key, access).run(fn);
  }

  /**
   * Takes a place on the key now, to run later: what arrived after it waits
   * for it (a write) even while its owner still checks things first. Every
   * turn is either run once or released.
   */
  reserve(key: string, access: Access = 'write'): Turn {
    const k = this.keys.get(key) ?? { all: Promise.resolve(), lastWrite: Promise.resolve() };
    const after = access === 'write' ? k.all : k.lastWrite;
    let finish!: () => void;
    const done = new Promise<void>((r) => {
      finish = r;
    });
    const next: KeyState =
      access === 'write'
        ? { all: done, lastWrite: done }
        : { all: Promise.all([k.all, done]).then(() => undefined), lastWrite: k.lastWrite };
    this.keys.set(key, next);
    void next.all.then(() => {
      if (this.keys.get(key) === next) this.keys.delete(key);
    });
    let used = false;
    return {
      run: <T>(fn: () => Promise<T>): Promise<T> => {
        if (used) return Promise.reject(new Error(`the turn on ${key} was used already`));
        used = true;
        const result = after.then(() => this.withSlot(fn));
        void settled(result).then(finish);
        return result;
      },
      release: () => {
        if (used) return;
        used = true;
        finish();
      },
    };
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
