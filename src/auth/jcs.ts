// JSON Canonicalization Scheme (RFC 8785): the one text of a JSON value that
// every signer and verifier hashes, whatever language wrote it.
//
// - object members sorted by their names as arrays of UTF-16 code units
//   (JavaScript's default string order), no whitespace;
// - numbers in ECMAScript's Number-to-String form (what JSON.stringify
//   writes: 1e+30, 4.5, 0.002, 1e-27; -0 as 0); NaN and ±Infinity are not JSON;
// - strings as JSON.stringify writes them: only ", \ and U+0000–U+001F
//   escaped (\b \t \n \f \r, else \u00xx in lower case), everything else as
//   itself; a lone surrogate cannot be encoded in UTF-8 and is refused (I-JSON).
//
// Values come from JSON.parse or a decoded protobuf message: plain objects,
// arrays, strings, finite numbers, booleans and null. Anything else is refused.

export class JcsError extends Error {}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function str(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new JcsError('a string holds a lone surrogate (not I-JSON)');
  return JSON.stringify(s);
}

export function canonicalize(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new JcsError(`${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'string':
      return str(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new JcsError(`a ${(value as object).constructor?.name ?? 'non-plain'} object is not a JSON value`);
      }
      const members: string[] = [];
      for (const k of Object.keys(value).sort()) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined) continue; // as JSON.stringify: an absent member
        members.push(`${str(k)}:${canonicalize(v)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new JcsError(`a ${typeof value} is not a JSON value`);
  }
}
