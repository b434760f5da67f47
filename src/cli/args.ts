// A command's data from the command line: key=value words (dotted keys make
// nested objects: source.pool=default → {source:{pool:'default'}}), one JSON
// object, or -f FILE / -f - (stdin) with key=value words on top. Checked
// against the command's schema before anything is sent.
import { unknownKeys, validKeys } from './schema-args';
import { closest } from './suggest';

/** A mistake on the command line: exit code 2, nothing was sent. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as typed: JSON when it is JSON (3, true, null, [..], {..}, "42"), else the string itself. */
export function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Puts key=value words into data (which may come from a file). A key given
 * twice keeps its last value; a key that is both a value and an object
 * (a=1 a.b=2) is refused, naming both words.
 */
function applyWords(words: string[], data: Record<string, unknown>, base?: string): Record<string, unknown> {
  const setBy = new Map<string, string>(); // dotted key → the word that set it
  for (const w of words) {
    const i = w.indexOf('=');
    if (i <= 0) throw new UsageError(`'${w}' is not key=value (or give one JSON object)`);
    const key = w.slice(0, i);
    const path = key.split('.');
    if (path.some((p) => p === '')) throw new UsageError(`'${w}': the key '${key}' has an empty part`);
    for (const [k, by] of setBy) {
      if (k === key) continue;
      if (key.startsWith(`${k}.`) || k.startsWith(`${key}.`))
        throw new UsageError(
          `'${w}' conflicts with '${by}': '${k.length < key.length ? k : key}' cannot be both a value and an object`,
        );
    }
    setBy.set(key, w);
    let at = data;
    for (let j = 0; j < path.length - 1; j++) {
      const next = at[path[j]];
      if (next === undefined) at = at[path[j]] = {};
      else if (isPlainObject(next)) at = next;
      else
        throw new UsageError(
          `'${w}' conflicts with '${path.slice(0, j + 1).join('.')}'${base ? ` from ${base}` : ''}, which is not an object`,
        );
    }
    at[path[path.length - 1]] = parseValue(w.slice(i + 1));
  }
  return data;
}

/** `key=value` words, or one word that is a JSON object → data. */
export function parseData(words: string[]): Record<string, unknown> {
  if (words.length === 1 && words[0].trim().startsWith('{')) return JSON.parse(words[0]) as Record<string, unknown>;
  return applyWords(words, {});
}

export interface DataSources {
  /** -f: a file name, or - for stdin */
  file?: string;
  readFile: (path: string) => string;
  readStdin: () => Promise<string>;
}

/** The data of a command: -f's JSON object (if any), then the words on top of it. */
export async function readData(words: string[], src: DataSources): Promise<Record<string, unknown>> {
  if (src.file === undefined) {
    try {
      return parseData(words);
    } catch (e) {
      if (e instanceof SyntaxError) throw new UsageError(`the data is not a JSON object: ${e.message}`);
      throw e;
    }
  }
  const from = src.file === '-' ? 'stdin' : src.file;
  if (words.length === 1 && words[0].trim().startsWith('{'))
    throw new UsageError(`give the data once: -f ${src.file} or a JSON object, not both`);
  let text: string;
  try {
    text = src.file === '-' ? await src.readStdin() : src.readFile(src.file);
  } catch (e) {
    throw new UsageError(`cannot read ${from}: ${(e as Error).message}`);
  }
  let base: unknown;
  try {
    base = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${from} is not JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(base)) throw new UsageError(`${from} must hold one JSON object`);
  return applyWords(words, base, from);
}

/** Refuses keys the command's schema does not know, listing the ones it does (and the closest). */
export function checkKeys(command: string, schema: unknown, data: unknown): void {
  const unknown = unknownKeys(schema, data);
  if (unknown.length === 0) return;
  const valid = validKeys(schema);
  const near = [...new Set(unknown.flatMap((k) => closest(k, valid, 2)))];
  const list = unknown.map((k) => `'${k}'`).join(', ');
  throw new UsageError(
    `${command}: unknown argument${unknown.length > 1 ? 's' : ''} ${list}` +
      (near.length ? ` (did you mean ${near.map((k) => `'${k}'`).join(' or ')}?)` : '') +
      `; valid: ${valid.length ? valid.join(', ') : 'none (it takes no data)'}`,
  );
}
