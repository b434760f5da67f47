// A command's data schema (TypeBox, which is JSON Schema) seen as the CLI's
// arguments: one row per key a person types (dotted for nested objects,
// e.g. destination.uri), with its type, whether it is required, its default
// and description. Help, completion, the key check and docs/cli-reference.md
// all read the contract through this walk, so none of them can drift from it.

/** The JSON Schema keywords the walk reads (TypeBox emits plain JSON Schema). */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  description?: string;
  default?: unknown;
}

export interface Argument {
  /** the key as typed: dotted for nested objects (destination.uri) */
  name: string;
  /** human type: string, boolean, integer 1..4096, abort|postcopy, string /re/, array (JSON), … */
  type: string;
  /** required whenever its object (and its form, see `form`) is given */
  required: boolean;
  /** the optional object this key is required within (destination for destination.uri) */
  within?: string;
  /** for data that is one of several objects: which of them (1-based) this key belongs to */
  form?: { at: string; forms: number[]; of: number };
  default?: unknown;
  description?: string;
}

const alternatives = (s: Schema): Schema[] | undefined => s.anyOf ?? s.oneOf;
const isObjectWithProperties = (s: Schema): boolean => s.properties !== undefined;
/** a union whose members are all objects with properties: the data takes the keys of one of them */
const objectForms = (s: Schema): Schema[] | undefined => {
  const alts = alternatives(s);
  return alts && alts.length > 0 && alts.every(isObjectWithProperties) ? alts : undefined;
};

/** Largest integer the contract allows (MAX_SAFE_INTEGER): no upper bound worth printing. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

function literal(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The type column: what a person may type for a key of this schema. */
export function typeText(s: Schema): string {
  if (s.const !== undefined) return literal(s.const);
  if (s.enum) return s.enum.map(literal).join('|');
  const alts = alternatives(s);
  if (alts) {
    if (alts.every((a) => a.const !== undefined)) return alts.map((a) => literal(a.const)).join('|');
    return alts.map(typeText).join(' or ');
  }
  const type = Array.isArray(s.type) ? s.type.join('|') : s.type;
  switch (type) {
    case 'integer':
    case 'number': {
      const lo = s.minimum;
      const hi = s.maximum !== undefined && s.maximum < UNBOUNDED ? s.maximum : undefined;
      if (lo !== undefined && hi !== undefined) return `${type} ${lo}..${hi}`;
      if (lo !== undefined) return `${type} >= ${lo}`;
      if (hi !== undefined) return `${type} <= ${hi}`;
      return type;
    }
    case 'string':
      return s.pattern ? `string /${s.pattern}/` : 'string';
    case 'array':
      return `array of ${s.items ? typeText(s.items) : 'any'} (JSON)`;
    case 'object':
      return 'object (JSON)';
    case undefined:
      return 'any (JSON)';
    default:
      return type;
  }
}

interface Place {
  prefix: string;
  /** the nearest optional object above, if any */
  within?: string;
  form?: Argument['form'];
}

function walkObject(s: Schema, at: Place, out: Argument[]): void {
  const required = new Set(s.required ?? []);
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const name = `${at.prefix}${key}`;
    const req = required.has(key);
    const below: Place = { prefix: `${name}.`, within: req ? at.within : name, form: at.form };
    const forms = objectForms(prop);
    if (isObjectWithProperties(prop) && Object.keys(prop.properties!).length > 0) walkObject(prop, below, out);
    else if (forms) walkForms(forms, name, below, out);
    else
      out.push({
        name,
        type: typeText(prop),
        required: req,
        ...(req && at.within !== undefined && { within: at.within }),
        ...(at.form && { form: at.form }),
        ...(prop.default !== undefined && { default: prop.default }),
        ...(prop.description !== undefined && { description: prop.description }),
      });
  }
}

function walkForms(forms: Schema[], at: string, place: Place, out: Argument[]): void {
  const rows: Argument[] = [];
  forms.forEach((f, i) => walkObject(f, { ...place, form: { at, forms: [i + 1], of: forms.length } }, rows));
  // A key with the same meaning in several forms (vol.create's pool) is one row.
  const merged = new Map<string, Argument>();
  for (const r of rows) {
    const seen = merged.get(r.name);
    if (seen && seen.type === r.type && seen.required === r.required && seen.form && r.form)
      seen.form = { ...seen.form, forms: [...seen.form.forms, ...r.form.forms] };
    else if (!seen) merged.set(r.name, { ...r });
    else merged.set(`${r.name}#${r.form?.forms.join(',')}`, { ...r });
  }
  for (const r of merged.values()) {
    if (r.form && r.form.forms.length === r.form.of) delete r.form; // in every form: no form to name
    out.push(r);
  }
}

/** The arguments of a command's data schema, in declaration order. */
export function argumentsOf(schema: unknown): Argument[] {
  const s = schema as Schema;
  const out: Argument[] = [];
  const forms = objectForms(s);
  if (forms) walkForms(forms, '', { prefix: '' }, out);
  else if (isObjectWithProperties(s)) walkObject(s, { prefix: '' }, out);
  return out;
}

/** The keys a person may type: every argument and every object on the way to one (destination, source). */
export function validKeys(schema: unknown): string[] {
  const keys = new Set<string>();
  for (const a of argumentsOf(schema)) {
    const parts = a.name.split('.');
    for (let i = 1; i < parts.length; i++) keys.add(parts.slice(0, i).join('.'));
    keys.add(a.name);
  }
  return [...keys];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Keys of data the schema does not know (dotted), before anything is sent.
 * Only objects that close their keys (additionalProperties: false) refuse
 * one; for a union of objects the closest form decides.
 */
export function unknownKeys(schema: unknown, data: unknown, prefix = ''): string[] {
  const s = schema as Schema;
  if (!isPlainObject(data)) return [];
  const forms = objectForms(s);
  if (forms) {
    const each = forms.map((f) => unknownKeys(f, data, prefix));
    return each.reduce((best, u) => (u.length < best.length ? u : best));
  }
  if (!isObjectWithProperties(s)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    const prop = s.properties![k];
    if (prop) out.push(...unknownKeys(prop, v, `${prefix}${k}.`));
    else if (s.additionalProperties === false) out.push(`${prefix}${k}`);
  }
  return out;
}
