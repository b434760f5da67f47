// A running command's abort (its time limit, the agent stopping), whose
// AbortSignal is made only when its handler asks for it: none of the short
// commands does, and an AbortController (an EventTarget) per command was a
// measurable part of a sequential domain.get (~1.6 % of the agent's thread).

export class LazyAbort {
  private controller?: AbortController;
  private done = false;

  get aborted(): boolean {
    return this.done;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.done) this.controller.abort();
    }
    return this.controller.signal;
  }

  abort(): void {
    this.done = true;
    this.controller?.abort();
  }
}
