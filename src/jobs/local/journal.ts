// An append-only journal of JSON lines, made durable by group commit: lines
// appended while a write runs go out together in the next one (one write,
// one fdatasync). A crash can tear only the last line, which load() drops;
// any other unreadable line is refused (starting without it could run a
// command again that the record says already ran).
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export class Journal {
  private pending: string[] = [];
  private waiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private writing?: Promise<void>;
  private fh?: FileHandle;
  /** lines on disk (after load) plus lines written since */
  lineCount = 0;

  constructor(readonly path: string) {}

  /** The journal's records in order; [] when there is none. */
  async load(): Promise<unknown[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const out: unknown[] = [];
    for (let i = 0; i < lines.length; i++) {
      try {
        out.push(JSON.parse(lines[i]));
      } catch (e) {
        if (i === lines.length - 1) break; // torn by a crash mid-write: it was never acknowledged
        throw new Error(
          `job journal ${this.path}: line ${i + 1} is not valid JSON (${(e as Error).message}); move it aside to start empty`,
        );
      }
    }
    this.lineCount = out.length;
    return out;
  }

  /** Resolves once the record is on disk (fdatasync), with whatever was appended beside it. */
  append(record: unknown): Promise<void> {
    this.pending.push(JSON.stringify(record));
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.kick();
    return done;
  }

  /** Empties the journal (its records are in a snapshot now). Waits for writes in progress. */
  async truncate(): Promise<void> {
    await this.idle();
    const fh = await this.handle();
    await fh.truncate(0);
    await fh.datasync();
    this.lineCount = 0;
  }

  /** Resolves when nothing is being written. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.idle();
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }

  private async handle(): Promise<FileHandle> {
    if (!this.fh) {
      await mkdir(dirname(this.path), { recursive: true });
      this.fh = await open(this.path, 'a', 0o600);
    }
    return this.fh;
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      // appended after the loop saw nothing pending, before this ran
      if (this.pending.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    {
      while (this.pending.length > 0) {
        const lines = this.pending;
        const waiting = this.waiting;
        this.pending = [];
        this.waiting = [];
        try {
          const fh = await this.handle();
          await fh.write(`${lines.join('\n')}\n`);
          await fh.datasync();
          this.lineCount += lines.length;
          for (const w of waiting) w.resolve();
        } catch (e) {
          for (const w of waiting) w.reject(e);
        }
      }
    }
  }
}
