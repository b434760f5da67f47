// Cleanup that always runs to the end: every step is tried even when an
// earlier one failed (a broken step must not leave the rest behind), and the
// failures are reported together afterwards (a cleanup that could not clean
// up must fail loudly, not leave a mess for the next test or run).

export type CleanupStep = [what: string, step: () => unknown];

export async function cleanupAll(steps: CleanupStep[]): Promise<void> {
  const failed: string[] = [];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (e) {
      failed.push(`${what}: ${(e as Error)?.message ?? String(e)}`);
    }
  }
  if (failed.length)
    throw new Error(`cleanup failed (${failed.length} of ${steps.length} steps):\n  ${failed.join('\n  ')}`);
}

/**
 * For tests that create things as they go: `defer(what, step)` right after
 * creating something; after each test every deferred step runs, newest
 * first, even when the test failed — and jest reports a failed cleanup next
 * to the test's own failure instead of in its place (a `finally` that throws
 * would hide it). Call at the top of a file or describe.
 */
export function cleanupAfterEach(): (what: string, step: () => unknown) => void {
  const steps: CleanupStep[] = [];
  afterEach(() => cleanupAll(steps.splice(0).reverse()));
  return (what, step) => {
    steps.push([what, step]);
  };
}
