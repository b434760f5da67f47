// Everything a scenario starts is registered here as it starts, and undone in
// reverse order at the end — also when the scenario fails or the bench is
// interrupted (main.ts runs every open Cleanup on SIGINT/SIGTERM).

type Step = { name: string; fn: () => Promise<unknown> | unknown };

const open = new Set<Cleanup>();

export class Cleanup {
  private steps: Step[] = [];
  private running?: Promise<string[]>;

  constructor() {
    open.add(this);
  }

  /** Registers an undo step; steps run last-registered first. */
  add(name: string, fn: Step['fn']): void {
    this.steps.push({ name, fn });
  }

  /** Runs every step once, in reverse; returns the failures (never throws). */
  run(): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      while (this.steps.length) {
        const s = this.steps.pop()!;
        try {
          await s.fn();
        } catch (e) {
          failures.push(`cleanup '${s.name}': ${(e as Error)?.message ?? String(e)}`);
        }
      }
      open.delete(this);
      return failures;
    })();
    return this.running;
  }
}

let aborting = false;

/** true once the bench is being stopped (a signal): load loops end at once. */
export function isAborting(): boolean {
  return aborting;
}

/** Runs every Cleanup still open (on a signal). */
export async function runAllCleanups(): Promise<string[]> {
  aborting = true;
  const out: string[] = [];
  for (const c of [...open].reverse()) out.push(...(await c.run()));
  return out;
}

/** Runs `body` with a fresh Cleanup that is always run afterwards; cleanup failures go to `problems`. */
export async function withCleanup<T>(problems: string[], body: (c: Cleanup) => Promise<T>): Promise<T> {
  const c = new Cleanup();
  try {
    return await body(c);
  } finally {
    problems.push(...(await c.run()));
  }
}
