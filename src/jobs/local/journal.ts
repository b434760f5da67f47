// An append-only journal of JSON lines, each append made durable by one
// write to a file opened with O_DSYNC (the store groups its changes into one
// append). O_DSYNC makes the write return only once its data is on disk, as
// write + fdatasync would, in one system call and one trip to libuv's thread
// pool instead of two (on the bench's virtual machine each trip costs a
// cross-CPU wake-up). A crash can tear only the last line, which load()
// drops; any other unreadable line is refused (starting without it could
// run a command again that the record says already ran).
import { constants } from 'node:fs';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export class Journal {
  private fh?: FileHandle;
  /** lines on disk (after load) plus lines appended since */
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

  /** Appends a record as one line; resolves once it is on disk (O_DSYNC). One call at a time: the caller serializes. */
  async append(record: unknown): Promise<void> {
    const line = `${JSON.stringify(record)}\n`; // now: the record may change once we wait
    const fh = await this.handle();
    await fh.write(line);
    this.lineCount++;
  }

  /** Empties the journal (its records are in a snapshot now). */
  async truncate(): Promise<void> {
    const fh = await this.handle();
    await fh.truncate(0);
    await fh.datasync();
    this.lineCount = 0;
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }

  private async handle(): Promise<FileHandle> {
    if (!this.fh) {
      await mkdir(dirname(this.path), { recursive: true });
      const { O_WRONLY, O_APPEND, O_CREAT, O_DSYNC } = constants;
      this.fh = await open(this.path, O_WRONLY | O_APPEND | O_CREAT | O_DSYNC, 0o600);
    }
    return this.fh;
  }
}
