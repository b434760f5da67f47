// A JSON document on disk that is never half-written: write a temp file,
// fsync it, rename it over the old one, fsync the directory. rename(2) is
// atomic within a file system, so after a crash the file is either the old or
// the new version.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export class AtomicJsonFile<T> {
  private seq = 0;

  constructor(readonly path: string) {}

  /** The stored document, or undefined if there is none yet. */
  async load(): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      // Refuse to start over an unreadable record: starting empty would run
      // commands again that the record says already ran.
      throw new Error(
        `job state file ${this.path} is not valid JSON (${(e as Error).message}); move it aside to start empty`,
      );
    }
  }

  /** Replaces the document with text (JSON of a T). One at a time: the caller serializes. */
  async replace(text: string): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${basename(this.path)}.${process.pid}.${++this.seq}.tmp`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    // The rename itself is durable only once the directory entry is synced.
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
