// Holds commands back while libvirt is reconnecting, so that the snapshot
// after a reconnect is published before any command runs again.
export class Gate {
  private closed?: { promise: Promise<void>; release: () => void };

  close(): void {
    if (this.closed) return;
    let release!: () => void;
    const promise = new Promise<void>((r) => {
      release = r;
    });
    this.closed = { promise, release };
  }

  open(): void {
    this.closed?.release();
    this.closed = undefined;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** true once open, false if still closed after ms */
  async wait(ms: number): Promise<boolean> {
    if (!this.closed) return true;
    let timer: NodeJS.Timeout | undefined;
    const opened = await Promise.race([
      this.closed.promise.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return opened;
  }
}
