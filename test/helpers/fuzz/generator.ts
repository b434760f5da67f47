// Hostile commands for the intake fuzz test (test/system/fuzz.test.ts),
// generated from a seed. Each case is what one publish carries (body,
// content type, reply address, correlation, MQTT 5 user properties) and what
// the agent must do with it, by the intake rules (README "Error codes",
// issue 9): a reply where there is a usable reply address, else a
// `command.completed` event (or a dead letter).
//
// Nothing generated may change anything: every case is invalid, except
// valid agent.ping / domain.list. assertHarmless() decodes each final
// message the way the agent does and throws on anything else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, isCommandName, type CommandName } from '../../../src/contract/commands';
import { CloudEvent } from '../../../src/contract/envelope-schema';
import { validator } from '../../../src/contract/validate';
import { PB_TYPES, pbDecode, pbEncode } from './proto';
import { Rng } from './rng';

export type Profile = 'amqp' | 'mqtt5' | 'mqtt4';

/**
 * reply: the reply address is usable and ours, a reply must come.
 * completion-or-deadletter: no usable reply address; a command.completed event (or a dead letter) must come.
 * either: the rules leave open which of the two (e.g. a 3.1.1 envelope too broken to trust its replyto); one must come.
 * unobservable: the reply goes where nobody listens (AMQP reply_to of a queue that does not exist); only settling is checked.
 */
export type Expect = 'reply' | 'completion-or-deadletter' | 'either' | 'unobservable';

export interface FuzzCase {
  /** unique in the run: stream letter + index, e.g. F123 */
  tag: string;
  seed: number;
  n: number;
  cls: string;
  note: string;
  body: Buffer;
  /** AMQP content_type / MQTT 5 Content Type */
  contentType?: string;
  /** AMQP message_id */
  messageId?: string;
  /** AMQP correlation_id */
  correlationId?: string;
  /** MQTT 5 Correlation Data */
  correlationData?: Buffer;
  /** AMQP reply_to / MQTT 5 Response Topic */
  replyTo?: string;
  /** MQTT 5 user properties (CloudEvents binary mode) */
  userProperties?: Record<string, string | string[]>;
  /** AMQP headers besides the harness's own */
  headers?: Record<string, unknown>;
  expect: Expect;
  /**
   * The key the answer is matched by: for a reply the correlation it must carry
   * (AMQP correlation_id, MQTT 5 correlation data as hex, 3.1.1 correlationid),
   * for a completion its data.id. Undefined: the rules do not fix it; such
   * answers are counted, not matched one by one.
   */
  replyKey?: string;
  completionKey?: string;
  /** 'ok': a successful result is expected; 'error': an error reply; 'any' */
  want: 'ok' | 'error' | 'any';
  /** the only error codes the rules allow here (undefined: any contract code but INTERNAL) */
  codes?: string[];
}

export interface GenContext {
  profile: Profile;
  node: string;
  /** our reply address: AMQP queue / MQTT topic */
  replyTo: string;
  /** valid reply addresses with odd names that we also listen on */
  oddReplyTo: string[];
  /** the agent's --max-message-bytes */
  maxMessageBytes: number;
}

export const CE_JSON = 'application/cloudevents+json';
export const CE_PROTOBUF = 'application/cloudevents+protobuf';
const PREFIX = 'virtbus.cmd.';
const ALLOWED_VALID = new Set(['agent.ping', 'domain.list']);

// ---------------------------------------------------------------- text pools

const C0C1 = [...Array.from({ length: 0x20 }, (_, i) => i), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i)].map(
  (c) => String.fromCharCode(c),
);
const MULTI = [
  'é',
  'ß',
  'Ω',
  'İ',
  'ﬀ',
  '中',
  '日本語',
  '\u00a0',
  '\u200b',
  '\ufeff',
  '\u202e',
  '\u2028',
  '\u2029',
  '😀',
  '👩‍💻',
  '𝔘',
];
const SPECIAL = [
  '.',
  '..',
  '/',
  '+',
  '#',
  '%',
  '%2E',
  '%25',
  '*',
  '$',
  '~',
  ' ',
  '\\',
  '"',
  "'",
  '`',
  '<',
  '>',
  '&',
  '?',
  ':',
  ';',
  '=',
  '{',
  '}',
  '[',
  ']',
  '|',
  '!',
  '@',
  '^',
  '-',
  '_',
  ',',
  '\\u0000',
];
const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];
const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_RE = /(?:[\ud800-\udbff](?![\udc00-\udfff]))|(?:(?<![\ud800-\udbff])[\udc00-\udfff])/;

export function hasControl(s: string): boolean {
  return CONTROL.test(s);
}
export function hasLoneSurrogate(s: string): boolean {
  return LONE_RE.test(s);
}
function codePoints(s: string): number {
  return [...s].length;
}

interface TextOpts {
  control?: boolean;
  lone?: boolean;
  multi?: boolean;
  special?: boolean;
}

/** A string of exactly len UTF-16 units drawn from the hostile pools. */
export function hostileText(r: Rng, len: number, o: TextOpts = {}): string {
  const pools: Array<readonly string[]> = [ASCII.split('')];
  if (o.special !== false) pools.push(SPECIAL);
  if (o.multi !== false) pools.push(MULTI);
  if (o.control) pools.push(C0C1);
  if (o.lone) pools.push(LONE);
  let s = '';
  // long strings: repeat a random chunk (fast, still hostile)
  const chunk = len > 512 ? hostileText(r, 256, o) : undefined;
  while (s.length < len) {
    if (chunk && len - s.length > chunk.length) {
      s += chunk;
      continue;
    }
    s += r.pick(r.pick(pools));
  }
  return trimUnits(s, len, !!o.lone);
}

/** Cut to len UTF-16 units; without lone allowed, never leave half a surrogate pair (pad with ASCII). */
function trimUnits(s: string, len: number, lone: boolean): string {
  let t = s.slice(0, len);
  if (!lone && t.length > 0 && /[\ud800-\udbff]$/.test(t)) t = `${t.slice(0, -1)}x`;
  return t;
}

/** Inserts tag at a random position (not inside a surrogate pair). */
function withTag(r: Rng, base: string, tag: string): string {
  let i = r.int(0, base.length);
  if (i > 0 && i < base.length && /[\ud800-\udbff]/.test(base[i - 1])) i++;
  return base.slice(0, i) + tag + base.slice(i);
}

/** At most n UTF-8 bytes, cut on a character boundary (AMQP shortstr). */
export function clipBytes(s: string, n: number): string {
  if (Buffer.byteLength(s) <= n) return s;
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > n) break;
    out += ch;
  }
  return out;
}

/** What Mosquitto accepts in an MQTT 5 string property: no control characters (it drops the connection), no lone surrogates (mqtt.js would send U+FFFD). */
export function brokerSafe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').replace(new RegExp(LONE_RE.source, 'g'), '?');
}

// ---------------------------------------------------------------- ids, types

/** Why the intake rules refuse this id (undefined: valid). */
export function idProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return 'not a string';
  if (id.length === 0) return 'empty';
  if (id.length > 128 || codePoints(id) > 128) return 'longer than 128';
  if (hasControl(id)) return 'control character';
  if (hasLoneSurrogate(id)) return 'lone surrogate';
  return undefined;
}

export function typeProblem(t: unknown): string | undefined {
  if (typeof t !== 'string') return 'not a string';
  if (t.length === 0) return 'empty';
  if (t.length > 256 || codePoints(t) > 256) return 'longer than 256';
  if (hasControl(t)) return 'control character';
  if (hasLoneSurrogate(t)) return 'lone surrogate';
  return undefined;
}

/** A valid, unique id with hostile characters (dots, slashes, %, multi-byte, …), 1..128 units. */
function validId(r: Rng, tag: string): string {
  const len = r.weighted([
    [4, r.int(0, 8)],
    [3, r.int(9, 40)],
    [2, r.int(41, 127 - tag.length)],
    [1, 128 - tag.length],
  ] as const);
  let id = withTag(r, hostileText(r, Math.max(0, len), { control: false, lone: false }), tag);
  if (id.length > 128) id = id.slice(0, 128);
  if (idProblem(id) || !id.includes(tag)) id = `${tag}.${r.pick(['a', 'é', '😀', '%', '/', '+', '#'])}`;
  return id;
}

/** An id the rules refuse; unique where it can be. */
function invalidId(r: Rng, tag: string): unknown {
  return r.weighted<() => unknown>([
    [2, () => ''],
    [4, () => withTag(r, hostileText(r, r.int(0, 40), { control: true }), tag) + r.pick(C0C1)],
    [2, () => withTag(r, `a${r.pick(C0C1)}`, tag)],
    [2, () => `${tag}${r.pick(LONE)}${hostileText(r, r.int(0, 10))}`],
    [3, () => withTag(r, hostileText(r, r.pick([129, 200, 255, 256, 1000, 4096]), { multi: false }), tag)],
    [
      1,
      () => withTag(r, hostileText(r, r.pick([65535, 100000]), { multi: r.chance(0.5), control: r.chance(0.3) }), tag),
    ],
    [2, () => r.pick<unknown>([0, 42, -1, 1.5, true, false, null, [], [tag], { id: tag }, {}])],
  ])();
}

function hostileType(r: Rng): string | unknown {
  return r.weighted<() => unknown>([
    [3, () => `${PREFIX}${hostileText(r, r.int(0, 30))}`],
    [2, () => `${PREFIX}${hostileText(r, r.int(1, 20), { control: true })}${r.pick(C0C1)}`],
    [1, () => `${PREFIX}domain${r.pick(LONE)}start`],
    [
      2,
      () => `${PREFIX}${hostileText(r, r.pick([244, 245, 300, 1000, 4096, 65536, 100000]), { multi: r.chance(0.5) })}`,
    ],
    [
      1,
      () =>
        r.pick([
          '',
          '.',
          'virtbus.cmd',
          'virtbus.cmd.',
          'virtbus.event.domain.lifecycle',
          'virtbus.reply',
          'com.example.x',
          'VIRTBUS.CMD.agent.ping',
          ' virtbus.cmd.agent.ping',
        ]),
    ],
    [1, () => hostileText(r, r.int(0, 300), { control: r.chance(0.3) })],
    [1, () => r.pick<unknown>([0, null, true, [], {}, ['virtbus.cmd.agent.ping']])],
  ])();
}

const UNKNOWN_NAMES = [
  'x',
  'domain',
  'domain.',
  'domain..start',
  '.domain.start',
  'domain.start.',
  'DOMAIN.START',
  'Domain.Start',
  'domain.start ',
  ' domain.start',
  'domain.start\u200b',
  'domain.stаrt' /* Cyrillic a */,
  'domain.explode',
  'node.reboot',
  'agent.shutdown',
  'agent.ping.x',
  'job',
  'constructor',
  'toString',
  '__proto__',
  'hasOwnProperty',
  'valueOf',
  'prototype',
  '__defineGetter__',
  'isPrototypeOf',
  'domain.*',
  'domain.#',
  'domain/start',
  'domain%2Estart',
  'vol.create.large',
  'domain.snapshot',
  'domain.snapshot.',
  '日本語',
  '😀',
];

function unknownCommandName(r: Rng): string {
  for (;;) {
    const name = r.chance(0.6) ? r.pick(UNKNOWN_NAMES) : hostileText(r, r.int(1, 40), { special: true });
    if (!isCommandName(name)) return name;
  }
}

// ---------------------------------------------------------------- command data

const EXAMPLES_DIR = join(__dirname, '..', '..', '..', 'contracts', 'examples');
const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
const exampleData = new Map<CommandName, Record<string, unknown>>();
for (const c of COMMAND_NAMES) {
  try {
    exampleData.set(c, JSON.parse(readFileSync(join(EXAMPLES_DIR, `command.${c}.json`), 'utf8')).data ?? {});
  } catch {
    exampleData.set(c, {});
  }
}
const dataCheckers = new Map(COMMAND_NAMES.map((c) => [c, validator(COMMANDS[c].data)]));
const checkEnvelope = validator(CloudEvent);

/** true if the agent would take data as valid for this command (data absent = {}). */
export function dataValid(name: CommandName, data: unknown): boolean {
  return dataCheckers.get(name)!(data ?? {}) === undefined;
}

const WRONG_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  -0.5,
  1e308,
  2 ** 53 + 2,
  '',
  ' ',
  'x',
  true,
  false,
  [],
  [1],
  {},
  { a: 1 },
  '../../etc/passwd',
  '/dev/zero',
  "test'; DROP",
  '<domain/>',
  'test\u0000',
  '😀',
];

/** Data for a command that its schema refuses (checked). */
function invalidData(r: Rng, name: CommandName, tag: string): { data: unknown; how: string } {
  for (let attempt = 0; attempt < 8; attempt++) {
    const base = structuredClone(exampleData.get(name) ?? {});
    const keys = Object.keys(base);
    const how = r.weighted<string>([
      [2, 'not-object'],
      [3, 'extra-key'],
      [2, 'drop-key'],
      [4, 'wrong-type'],
      [2, 'long-string'],
      [1, 'deep'],
      [1, 'nested-extra'],
    ]);
    let data: unknown = base;
    switch (how) {
      case 'not-object':
        data = r.pick(WRONG_VALUES.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)));
        break;
      case 'extra-key':
        (base as Record<string, unknown>)[
          r.chance(0.5) ? `fuzz_${tag}` : hostileText(r, r.int(1, 300), { control: r.chance(0.3) })
        ] = r.pick(WRONG_VALUES);
        break;
      case 'drop-key':
        if (keys.length) delete (base as Record<string, unknown>)[r.pick(keys)];
        break;
      case 'wrong-type':
        if (keys.length) (base as Record<string, unknown>)[r.pick(keys)] = r.pick(WRONG_VALUES);
        break;
      case 'long-string':
        if (keys.length)
          (base as Record<string, unknown>)[r.pick(keys)] = hostileText(
            r,
            r.weighted([
              [3, 256],
              [3, 257],
              [2, 4097],
              [1, 70000],
            ] as const),
            { control: r.chance(0.3) },
          );
        break;
      case 'deep':
        if (keys.length) (base as Record<string, unknown>)[r.pick(keys)] = deepValue(r.int(50, 2000));
        break;
      case 'nested-extra': {
        const nested = keys.find((k) => typeof base[k] === 'object' && base[k] !== null);
        if (nested) (base[nested] as Record<string, unknown>)[`fuzz_${tag}`] = 1;
        else (base as Record<string, unknown>)[`fuzz_${tag}`] = 1;
        break;
      }
    }
    if (!dataValid(name, data)) return { data, how };
  }
  return { data: `not data (${tag})`, how: 'string' };
}

/** Data every command refuses (all data schemas are closed objects). */
function invalidForAll(r: Rng, tag: string): unknown {
  return r.pick<unknown>([{ [`fuzz_${tag}`]: 1 }, { domain: 'test', [`fuzz_${tag}`]: true }, 'x', [tag], 42]);
}

function deepValue(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

function deepJsonText(r: Rng, depth: number): string {
  switch (r.pick(['array', 'object', 'mixed'] as const)) {
    case 'array':
      return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    case 'object':
      return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    default: {
      const half = Math.ceil(depth / 2);
      return `${'[{"a":'.repeat(half)}1${'}]'.repeat(half)}`;
    }
  }
}

// ---------------------------------------------------------------- protobuf

/** env (a JSON-ish envelope) as a CloudEvents protobuf message; data as text_data JSON. */
function envToProtobuf(env: Record<string, unknown>): Buffer {
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) {
    if (['specversion', 'id', 'source', 'type', 'data'].includes(k)) continue;
    attributes[k] =
      typeof v === 'boolean'
        ? { ce_boolean: v }
        : Number.isInteger(v)
          ? { ce_integer: v }
          : { ce_string: typeof v === 'string' ? v : JSON.stringify(v) };
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
  return pbEncode({
    spec_version: str(env.specversion),
    id: str(env.id),
    source: str(env.source),
    type: str(env.type),
    attributes,
    ...(env.data !== undefined && { text_data: JSON.stringify(env.data) }),
  });
}

function garbageProtobuf(r: Rng, tag: string): { body: Buffer; note: string } {
  return r.weighted<() => { body: Buffer; note: string }>([
    [3, () => ({ body: r.bytes(r.int(0, 512)), note: 'random bytes' })],
    [
      2,
      () => {
        const b = envToProtobuf(baseEnv(`${tag}-pb`, 'virtbus.cmd.agent.ping', {}));
        return { body: b.subarray(0, r.int(0, b.length - 1)), note: 'truncated CloudEvent' };
      },
    ],
    [
      2,
      () => ({
        body: pbEncode({
          spec_version: '1.0',
          id: `${tag}-pb`,
          source: 'fuzz',
          type: r.pick(['virtbus.cmd.agent.ping', 'virtbus.cmd.domain.list']),
          proto_data: {
            type_url: r.pick([
              '',
              'x',
              'type.googleapis.com/virtbus.v1.Nope',
              'type.googleapis.com/google.protobuf.Empty',
              `type.googleapis.com/virtbus.v1.${r.pick(PB_TYPES)}`,
            ]),
            value: r.bytes(r.int(0, 64)),
          },
        }),
        note: 'proto_data of a wrong or unknown type / garbage value',
      }),
    ],
    [
      1,
      () => ({
        body: pbEncode({
          spec_version: '1.0',
          id: `${tag}-pb`,
          source: 'fuzz',
          type: 'virtbus.cmd.domain.list',
          proto_data: {
            type_url: 'type.googleapis.com/virtbus.v1.DomainListData',
            value: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
          },
        }),
        note: 'proto_data with a length past the end',
      }),
    ],
    [
      2,
      () => ({
        body: pbEncode({
          spec_version: '1.0',
          id: `${tag}-pb`,
          source: 'fuzz',
          type: 'virtbus.cmd.agent.ping',
          attributes: {
            [r.pick(['deadline', 'time'])]: {
              ce_timestamp: { seconds: r.pick([8.64e15, -8.64e15, 2 ** 53, -1]), nanos: r.pick([0, -1, 2e9]) },
            },
          },
        }),
        note: 'timestamp attribute out of range',
      }),
    ],
    [
      1,
      () => ({
        body: pbEncode({
          spec_version: '1.0',
          id: `${tag}-pb`,
          source: 'fuzz',
          type: 'virtbus.cmd.agent.ping',
          attributes: {
            id: { ce_integer: 5 },
            type: { ce_bytes: Buffer.from('virtbus.cmd.domain.list') },
            data: { ce_string: '{"state":"bogus"}' },
            '': { ce_boolean: true },
          },
        }),
        note: 'attributes that shadow core fields',
      }),
    ],
    [
      1,
      () => ({
        body: Buffer.concat([Buffer.from([0x0a]), Buffer.alloc(10, 0xff)]),
        note: 'varint length that never ends',
      }),
    ],
    [1, () => ({ body: Buffer.alloc(r.int(1000, 60000), 0x0b), note: 'deeply nested start-group tags' })],
    [1, () => ({ body: Buffer.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x61]), note: 'text_data claiming 2 GiB' })],
    [
      1,
      () => ({
        body: Buffer.from(JSON.stringify(baseEnv(`${tag}-pb`, 'virtbus.cmd.agent.ping', {}))),
        note: 'JSON sent as protobuf',
      }),
    ],
  ])();
}

// ---------------------------------------------------------------- drafts

interface Draft {
  cls: string;
  note: string;
  /** a JSON value to send (structured JSON), unless raw is set */
  env?: unknown;
  /** exact body bytes */
  raw?: Buffer;
  /** encode env as protobuf / MQTT 5 binary mode */
  encoding?: 'json' | 'protobuf' | 'binary';
  /** content type property; null: none; undefined: the encoding's */
  contentType?: string | null;
  want: 'ok' | 'error' | 'any';
  codes?: string[];
  /** the agent cannot read a reply address out of this body (3.1.1: broken envelope) */
  bodyUnreadable?: boolean;
  /** completion data.id is fixed by the rules (valid unique id of a readable envelope) */
  completionKey?: string;
  /** force a reply mode */
  reply?: ReplyMode;
}

type ReplyMode = 'ours' | 'odd' | 'none' | 'bad';

function baseEnv(
  id: unknown,
  type: unknown,
  data: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    specversion: '1.0',
    id,
    source: 'fuzz',
    type,
    time: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    ...(data !== undefined && { data }),
    ...extra,
  };
}

function readableEnvelope(env: unknown): boolean {
  return checkEnvelope(env) === undefined;
}

function validReadOnly(r: Rng): { type: string; data: unknown; name: string } {
  return r.chance(0.5)
    ? { name: 'agent.ping', type: `${PREFIX}agent.ping`, data: r.pick([{}, undefined]) }
    : {
        name: 'domain.list',
        type: `${PREFIX}domain.list`,
        data: r.pick([{}, { state: 'all' }, { state: 'active' }, undefined]),
      };
}

type Maker = (r: Rng, tag: string, ctx: GenContext) => Draft;

const MAKERS: Record<string, Maker> = {
  'random-bytes': (r) => ({
    cls: 'random-bytes',
    note: 'random bytes',
    raw: r.bytes(
      r.weighted([
        [6, r.int(0, 64)],
        [3, r.int(65, 4096)],
        [1, r.int(4097, 65536)],
      ]),
    ),
    contentType: r.pick([undefined, null, CE_JSON, CE_PROTOBUF, 'application/octet-stream']),
    want: 'error',
    bodyUnreadable: true,
  }),

  'truncated-json': (r, tag) => {
    const ok = validReadOnly(r);
    const text = JSON.stringify(baseEnv(validId(r, tag), ok.type, ok.data ?? { pad: hostileText(r, r.int(0, 200)) }));
    const cut = r.int(0, text.length - 1);
    return {
      cls: 'truncated-json',
      note: `valid command cut at ${cut}/${text.length}`,
      raw: Buffer.from(text.slice(0, cut)),
      want: 'error',
      bodyUnreadable: true,
      codes: ['BAD_REQUEST'],
    };
  },

  'deep-json': (r, tag, ctx) => {
    // as deep as fits under the size limit (an oversized body would be refused unread)
    const depth = Math.min(
      r.weighted([
        [3, 100],
        [3, 1000],
        [2, 10000],
        [1, 100000],
      ] as const),
      Math.floor((ctx.maxMessageBytes - 2048) / 6),
    );
    if (r.chance(0.5)) {
      return {
        cls: 'deep-json',
        note: `JSON nested ${depth} deep as the whole body`,
        raw: Buffer.from(deepJsonText(r, depth)),
        want: 'error',
        bodyUnreadable: true,
        codes: ['BAD_REQUEST'],
      };
    }
    const id = validId(r, tag);
    const name = r.pick(COMMAND_NAMES);
    const inner = deepJsonText(r, depth);
    const field = r.pick(['data', 'data.domain', 'source', 'extension']);
    // where the deep part is not the data, the data is invalid on its own
    const data = field === 'data' || field === 'data.domain' ? { domain: 'DEEP' } : invalidData(r, name, tag).data;
    const env = baseEnv(id, `${PREFIX}${name}`, data);
    let text = JSON.stringify(env);
    if (field === 'data') text = text.replace('"data":{"domain":"DEEP"}', `"data":${inner}`);
    else if (field === 'data.domain') text = text.replace('"DEEP"', inner);
    else if (field === 'source') text = text.replace('"source":"fuzz"', `"source":${inner}`);
    else text = text.replace('"source":"fuzz"', `"source":"fuzz","fuzzext":${inner}`);
    // A multi-byte id or long invalid data can still push the body over the limit: then it is refused unread
    // (BAD_REQUEST, known only by its message_id), like any oversized message.
    const fits = Buffer.byteLength(text) <= ctx.maxMessageBytes;
    const readable = field !== 'source' && fits;
    return {
      cls: 'deep-json',
      note: `${name} with ${field} nested ${depth} deep${fits ? '' : ' (over the size limit)'}`,
      raw: Buffer.from(text),
      want: 'error',
      bodyUnreadable: !readable,
      completionKey: readable ? id : undefined,
      ...(!fits && { codes: ['BAD_REQUEST'] }),
    };
  },

  'non-cloudevent': (r, tag) => {
    const v = r.weighted<() => unknown>([
      [2, () => r.pick<unknown>([null, 0, 1, -1, 1e308, true, false, '', 'virtbus.cmd.agent.ping', [], [1, 2, 3], {}])],
      [2, () => [baseEnv(validId(r, tag), `${PREFIX}agent.ping`, {})]],
      [
        3,
        () => {
          const e = baseEnv(validId(r, tag), `${PREFIX}agent.ping`, {});
          delete e[r.pick(['specversion', 'id', 'source', 'type'])];
          return e;
        },
      ],
      [
        3,
        () => ({
          ...baseEnv(validId(r, tag), `${PREFIX}agent.ping`, {}),
          [r.pick(['id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'deadline', 'specversion'])]:
            r.pick(WRONG_VALUES),
        }),
      ],
      [1, () => ({ hello: 'world', tag })],
    ])();
    // "__proto__" as an own key, as JSON.parse makes it
    const proto = r.chance(0.1);
    let text = JSON.stringify(v);
    if (proto && text.startsWith('{'))
      text = `{"__proto__":{"type":"virtbus.cmd.agent.ping","specversion":"1.0"}${text === '{}' ? '' : ','}${text.slice(1)}`;
    const parsed = JSON.parse(text);
    // some variants are still valid envelopes (an empty datacontenttype, say): then any answer is fine
    const readable = readableEnvelope(parsed);
    return {
      cls: 'non-cloudevent',
      note: `not a CloudEvent: ${text.slice(0, 60)}`,
      raw: Buffer.from(text),
      env: parsed,
      want: readable ? 'any' : 'error',
      bodyUnreadable: !readable,
    };
  },

  'wrong-specversion': (r, tag) => {
    const sv = r.pick<unknown>([
      '0.3',
      '1',
      '1.0 ',
      ' 1.0',
      '1.00',
      '2.0',
      '',
      '1.0\u0000',
      1,
      1.0,
      null,
      ['1.0'],
      { v: '1.0' },
    ]);
    const ok = validReadOnly(r);
    const id = validId(r, tag);
    return {
      cls: 'wrong-specversion',
      note: `specversion ${JSON.stringify(sv)}`,
      env: { ...baseEnv(id, ok.type, ok.data), specversion: sv },
      want: 'error',
      codes: ['BAD_REQUEST'],
      bodyUnreadable: true,
    };
  },

  'schema-wrong': (r, tag) => {
    const name = r.pick(COMMAND_NAMES);
    const { data, how } = invalidData(r, name, tag);
    const id = validId(r, tag);
    // planned commands answer UNSUPPORTED before looking at data
    return {
      cls: 'schema-wrong',
      note: `${name} data ${how}: ${short(JSON.stringify(data) ?? String(data), 60)}`,
      env: baseEnv(id, `${PREFIX}${name}`, data),
      want: 'error',
      completionKey: id,
      codes: COMMANDS[name].planned ? ['UNSUPPORTED'] : ['BAD_REQUEST'],
      encoding: r.weighted([
        [6, 'json'],
        [2, 'protobuf'],
        [2, 'binary'],
      ] as const),
    };
  },

  'unknown-command': (r, tag) => {
    const name = unknownCommandName(r);
    const id = validId(r, tag);
    const type = `${PREFIX}${name}`;
    // data no command accepts: a near miss of a real name ('domain.start ') stays harmless even to a lenient agent
    const env = baseEnv(id, type, invalidForAll(r, tag));
    const tp = typeProblem(type);
    return {
      cls: 'unknown-command',
      note: `type ${short(JSON.stringify(type), 60)}`,
      env,
      want: 'error',
      completionKey: id,
      codes: tp ? ['BAD_REQUEST'] : ['UNKNOWN_COMMAND'],
      encoding: r.weighted([
        [6, 'json'],
        [3, 'protobuf'],
        [1, 'binary'],
      ] as const),
    };
  },

  'hostile-id': (r, tag) => {
    const ok = validReadOnly(r);
    const valid = r.chance(0.4);
    const id = valid ? validId(r, tag) : invalidId(r, tag);
    const env = baseEnv(id, ok.type, ok.data);
    const problem = idProblem(id);
    // a non-string or empty id fails the envelope: the agent cannot trust the rest
    const readable = typeof id === 'string' && id.length > 0 && id.length <= 128 && readableEnvelope(env);
    return {
      cls: 'hostile-id',
      note: `${ok.name} with ${problem ? `invalid id (${problem})` : 'valid odd id'} ${short(JSON.stringify(id) ?? String(id), 50)} len ${typeof id === 'string' ? id.length : '-'}`,
      env,
      want: problem ? 'error' : 'ok',
      codes: problem ? ['BAD_REQUEST'] : undefined,
      completionKey: problem ? undefined : (id as string),
      bodyUnreadable: !readable && !!problem,
      encoding: r.weighted([
        [6, 'json'],
        [2, 'protobuf'],
        [2, 'binary'],
      ] as const),
    };
  },

  'hostile-type': (r, tag) => {
    const type = hostileType(r);
    const id = validId(r, tag);
    const env = baseEnv(id, type, invalidForAll(r, tag));
    const readable = readableEnvelope(env);
    const tp = typeProblem(type);
    return {
      cls: 'hostile-type',
      note: `type ${tp ? `invalid (${tp}) ` : ''}${short(JSON.stringify(type) ?? String(type), 50)} len ${typeof type === 'string' ? type.length : '-'}`,
      env,
      want: 'error',
      codes:
        tp || (typeof type === 'string' && !type.startsWith(PREFIX))
          ? ['BAD_REQUEST']
          : ['UNKNOWN_COMMAND', 'BAD_REQUEST'],
      completionKey: readable ? id : undefined,
      bodyUnreadable: !readable,
      encoding: r.weighted([
        [6, 'json'],
        [2, 'protobuf'],
        [2, 'binary'],
      ] as const),
    };
  },

  'reply-address': (r, tag) => {
    const ok = validReadOnly(r);
    const id = validId(r, tag);
    const invalid = r.chance(0.5);
    return {
      cls: 'reply-address',
      note: `${ok.name}, ${invalid ? 'bad' : 'odd but valid'} reply address`,
      env: baseEnv(id, ok.type, ok.data),
      want: 'ok',
      completionKey: id,
      reply: invalid ? 'bad' : 'odd',
    };
  },

  correlation: (r, tag) => {
    const ok = validReadOnly(r);
    // a valid id of more than 255 UTF-8 bytes: AMQP cannot carry it as correlation_id
    const id = r.chance(0.3) ? `${tag}${'日'.repeat(100)}`.slice(0, 128) : validId(r, tag);
    return {
      cls: 'correlation',
      note: `${ok.name} with odd correlation`,
      env: baseEnv(id, ok.type, ok.data),
      want: 'ok',
      completionKey: id,
      reply: 'ours',
    };
  },

  'content-type': (r, tag) => {
    const ok = validReadOnly(r);
    const id = validId(r, tag);
    const ct = r.pick([
      'text/plain',
      'application/xml',
      'application/octet-stream',
      'application/cloudevents+xml',
      'application/cloudevents',
      'application/cloudevents+json-seq',
      'application/cloudevents+jsonx',
      'application/jsonp',
      'application/json-patch+json',
      'application/cloudevents+protobufx',
      'application/protobuf',
      'APPLICATION/CLOUDEVENTS+JSON',
      'Application/Json',
      'application/cloudevents+json; charset=latin1',
      'application/cloudevents+json;;;',
      ' application/cloudevents+json',
      'application/cloudevents+json\u00e9',
      'applicatión/json',
      '😀',
      '*/*',
      'application/*',
      ';',
      '/',
      'x'.repeat(255),
    ]);
    // a JSON command under a JSON media type (any case, any parameters) is readable; anything else is refused
    const mt = ct.split(';')[0].trim().toLowerCase();
    const jsonish = mt === CE_JSON || mt === 'application/json';
    const body = r.chance(0.3) ? garbageProtobuf(r, tag).body : undefined;
    // whether an odd spelling of a JSON media type is accepted is not fixed by the rules: any contract answer
    return {
      cls: 'content-type',
      note: `content type ${JSON.stringify(ct.slice(0, 40))}${body ? ' with a protobuf body' : ''}`,
      env: baseEnv(id, ok.type, ok.data),
      raw: body,
      contentType: ct,
      want: 'any',
      bodyUnreadable: !!body || !jsonish,
      completionKey: body || !jsonish ? undefined : id,
    };
  },

  protobuf: (r, tag) => {
    const g = garbageProtobuf(r, tag);
    // garbage may still decode to a valid ping (a cut at a field boundary, unknown fields skipped): any contract answer
    return {
      cls: 'protobuf',
      note: `garbage protobuf: ${g.note}`,
      raw: g.body,
      contentType: CE_PROTOBUF,
      want: 'any',
      bodyUnreadable: true,
    };
  },

  'binary-mode': (r, tag) => {
    const ok = validReadOnly(r);
    const id = validId(r, tag);
    return {
      cls: 'binary-mode',
      note: 'MQTT 5 binary mode with odd attributes/payload',
      env: baseEnv(id, ok.type, ok.data),
      encoding: 'binary',
      want: 'any',
    };
  },

  oversized: (r, tag, ctx) => {
    const size = r.pick([
      ctx.maxMessageBytes + 1,
      ctx.maxMessageBytes + r.int(2, 1000),
      ctx.maxMessageBytes + r.int(1000, 100000),
      ctx.maxMessageBytes * 4,
    ]);
    const ok = validReadOnly(r);
    const env = baseEnv(validId(r, tag), ok.type, ok.data, { pad: '' });
    const text = JSON.stringify(env);
    const padded = text.replace('"pad":""', `"pad":"${'x'.repeat(Math.max(0, size - text.length))}"`);
    return {
      cls: 'oversized',
      note: `${ok.name} of ${padded.length} bytes (limit ${ctx.maxMessageBytes})`,
      raw: Buffer.from(padded),
      want: 'error',
      codes: ['BAD_REQUEST'],
      bodyUnreadable: true,
    };
  },

  'valid-readonly': (r, tag) => {
    const ok = validReadOnly(r);
    const id = validId(r, tag);
    return {
      cls: 'valid-readonly',
      note: `valid ${ok.name}`,
      env: baseEnv(id, ok.type, ok.data),
      want: 'ok',
      completionKey: id,
      encoding: r.weighted([
        [6, 'json'],
        [2, 'protobuf'],
        [2, 'binary'],
      ] as const),
    };
  },

  deadline: (r, tag) => {
    const ok = validReadOnly(r);
    const id = validId(r, tag);
    const d = r.pick<unknown>([
      '2000-01-01T00:00:00Z',
      '1970-01-01T00:00:00.000Z',
      'yesterday',
      '',
      '2026-13-45T99:99:99Z',
      0,
      -1,
      null,
      '9999-12-31T23:59:59Z',
      '+275760-09-13T00:00:00.001Z',
    ]);
    const past = d === '2000-01-01T00:00:00Z' || d === '1970-01-01T00:00:00.000Z';
    const future = d === '9999-12-31T23:59:59Z';
    const env = baseEnv(id, ok.type, ok.data, { deadline: d });
    return {
      cls: 'deadline',
      note: `${ok.name} deadline ${JSON.stringify(d)}`,
      env,
      want: future ? 'ok' : 'error',
      codes: past ? ['EXPIRED'] : future ? undefined : ['BAD_REQUEST'],
      completionKey: id,
      bodyUnreadable: !readableEnvelope(env),
    };
  },
};

const WEIGHTS: Record<Profile, Array<[number, string]>> = {
  amqp: [
    [8, 'random-bytes'],
    [7, 'truncated-json'],
    [3, 'deep-json'],
    [7, 'non-cloudevent'],
    [4, 'wrong-specversion'],
    [16, 'schema-wrong'],
    [7, 'unknown-command'],
    [11, 'hostile-id'],
    [7, 'hostile-type'],
    [7, 'reply-address'],
    [6, 'correlation'],
    [6, 'content-type'],
    [5, 'protobuf'],
    [0.5, 'oversized'],
    [3, 'valid-readonly'],
    [2, 'deadline'],
  ],
  mqtt5: [],
  mqtt4: [],
};
WEIGHTS.mqtt5 = [...WEIGHTS.amqp, [4, 'binary-mode']];
WEIGHTS.mqtt4 = WEIGHTS.amqp.filter(([, c]) => c !== 'content-type');

export const CLASSES = Object.keys(MAKERS);

// ---------------------------------------------------------------- finishing

function short(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…(${s.length})` : s;
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

/**
 * Whether protobuf / MQTT 5 binary mode can carry this envelope as it is:
 * core attributes are strings there, protobuf strings and MQTT strings are
 * UTF-8 (a lone surrogate becomes U+FFFD), and Mosquitto refuses control
 * characters in user properties. Otherwise the case goes as structured JSON.
 */
function carriesExactly(env: Record<string, unknown>, encoding: 'protobuf' | 'binary'): boolean {
  for (const k of ['specversion', 'id', 'source', 'type']) {
    const v = env[k];
    if (typeof v !== 'string' || hasLoneSurrogate(v)) return false;
    if (encoding === 'binary' && (hasControl(v) || v.length === 0)) return false;
    if (encoding === 'protobuf' && v.length === 0) return false;
  }
  if (encoding === 'binary') {
    for (const [k, v] of Object.entries(env)) {
      if (k === 'data' || v === undefined) continue;
      // an MQTT string is at most 65,535 bytes (mqtt-packet would throw on a longer one)
      if (typeof v !== 'string' || hasControl(v) || hasLoneSurrogate(v) || Buffer.byteLength(v) > 65535) return false;
    }
    // a deep or odd data value is still JSON; a string data would be taken as JSON text
    if (typeof env.data === 'string') return false;
  }
  return true;
}

/** MQTT 5 binary mode: attributes as user properties (broker-safe), data as the payload. */
function toBinaryMode(
  r: Rng,
  env: Record<string, unknown>,
  odd: boolean,
): { payload: Buffer; userProperties: Record<string, string | string[]>; contentType?: string; note: string } {
  const userProperties: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k === 'data' || v === undefined) continue;
    userProperties[k] = brokerSafe(typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'));
  }
  let payload = env.data === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(env.data));
  let contentType: string | undefined = 'application/json';
  let note = '';
  switch (
    odd
      ? r.weighted([
          [2, 'plain'],
          [1, 'garbage'],
          [1, 'text'],
          [1, 'octet'],
          [1, 'none'],
          [1, 'repeat'],
          [1, 'upper'],
        ] as const)
      : 'plain'
  ) {
    case 'garbage':
      payload = r.bytes(r.int(1, 200));
      note = 'payload not JSON';
      break;
    case 'text':
      contentType = 'text/plain';
      note = 'data as text/plain';
      break;
    case 'octet':
      contentType = 'application/octet-stream';
      note = 'data as octet-stream';
      break;
    case 'none':
      contentType = undefined;
      note = 'no content type';
      break;
    case 'repeat':
      userProperties.type = [String(userProperties.type), `${PREFIX}domain.destroy`];
      note = 'type repeated';
      break;
    case 'upper':
      userProperties.ID = 'shadow';
      userProperties['Type'] = `${PREFIX}domain.destroy`;
      note = 'upper-case attribute names';
      break;
    default:
      break;
  }
  return { payload, userProperties, contentType, note };
}

/** Case number n of the stream with this seed (deterministic given seed, n and the context's names). */
export function generateCase(
  rng: Rng,
  stream: string,
  seed: number,
  n: number,
  ctx: GenContext,
  only?: Set<string>,
  exclude?: Set<string>,
): FuzzCase {
  const tag = `${stream}${n}`;
  const weights = WEIGHTS[ctx.profile].filter(([, c]) => (!only || only.has(c)) && (!exclude || !exclude.has(c)));
  if (!weights.length) throw new Error('no fuzz classes left to generate (VIRTBUS_FUZZ_ONLY / VIRTBUS_FUZZ_EXCLUDE)');
  const cls = rng.weighted(weights);
  const d = MAKERS[cls](rng, tag, ctx);
  const c = finish(rng, d, tag, seed, n, ctx);
  assertHarmless(c, ctx.profile);
  return c;
}

function finish(r: Rng, d: Draft, tag: string, seed: number, n: number, ctx: GenContext): FuzzCase {
  const p = ctx.profile;
  const c: FuzzCase = {
    tag,
    seed,
    n,
    cls: d.cls,
    note: d.note,
    body: Buffer.alloc(0),
    expect: 'completion-or-deadletter',
    want: d.want,
    ...(d.codes && { codes: d.codes }),
  };
  let env = d.env;
  let encoding = d.encoding ?? 'json';
  if (encoding === 'binary' && p !== 'mqtt5') encoding = 'json';
  if (encoding === 'protobuf' && p === 'mqtt4') encoding = 'json';
  const mode: ReplyMode =
    d.reply ??
    r.weighted<ReplyMode>([
      [7, 'ours'],
      [3, 'none'],
    ]);
  const isObj = typeof env === 'object' && env !== null && !Array.isArray(env);

  // 3.1.1: the reply address lives in the envelope
  if (p === 'mqtt4' && !d.raw && isObj && mode !== 'none') {
    const e = { ...(env as Record<string, unknown>) };
    const corr = correlation311(r, tag);
    if (mode === 'bad') {
      const bad = badMqttTopic(r, true);
      e.replyto = bad.topic;
      c.note += `; replyto ${short(JSON.stringify(bad.topic) ?? String(bad.topic), 40)}`;
    } else {
      e.replyto = mode === 'odd' ? r.pick(ctx.oddReplyTo) : ctx.replyTo;
    }
    if (corr.value !== undefined) e.correlationid = corr.value;
    c.note += `; correlationid ${corr.note}`;
    env = e;
    const readable = readableEnvelope(e) && !d.bodyUnreadable;
    if (mode === 'bad') {
      c.expect = readable ? 'completion-or-deadletter' : 'either';
      if (readable) {
        c.codes = ['BAD_REQUEST'];
        c.want = 'error';
      }
    } else if (readable) {
      c.expect = 'reply';
      c.replyKey = corr.key;
    } else {
      // the rules do not say whether a replyto in an envelope the agent refuses is used
      c.expect = 'either';
      c.replyKey = corr.key;
    }
  }

  // body
  if (!d.raw && encoding !== 'json' && (!isObj || !carriesExactly(env as Record<string, unknown>, encoding)))
    encoding = 'json';
  if (d.raw) {
    c.body = d.raw;
  } else if (encoding === 'protobuf') {
    c.body = envToProtobuf(env as Record<string, unknown>);
    c.contentType = CE_PROTOBUF;
  } else if (encoding === 'binary') {
    // odd variants only for agent.ping / domain.list: they may change what the data is
    const b = toBinaryMode(r, env as Record<string, unknown>, d.cls === 'binary-mode');
    c.body = b.payload;
    c.userProperties = b.userProperties;
    c.contentType = b.contentType;
    if (b.note) {
      // odd binary-mode variants: what the agent makes of them is not fixed by the rules
      c.note += `; ${b.note}`;
      c.want = 'any';
      c.codes = undefined;
    }
  } else {
    c.body = Buffer.from(JSON.stringify(env) ?? 'null');
  }
  if (d.contentType !== undefined && p !== 'mqtt4') c.contentType = d.contentType ?? undefined;
  else if (c.contentType === undefined && p !== 'mqtt4' && d.contentType === undefined && !c.userProperties)
    c.contentType = r.chance(0.9) ? CE_JSON : undefined;
  if (p === 'amqp' && c.contentType !== undefined) c.contentType = clipBytes(c.contentType, 255);
  if (p === 'mqtt5' && c.contentType !== undefined) c.contentType = brokerSafe(c.contentType);

  // AMQP / MQTT 5: the reply address is a transport property
  if (p === 'amqp') amqpAddress(r, c, mode, ctx, env);
  if (p === 'mqtt5') mqtt5Address(r, c, mode, ctx);

  if (c.expect !== 'reply' && c.expect !== 'unobservable' && d.completionKey !== undefined && !d.bodyUnreadable)
    c.completionKey = d.completionKey;
  if (p === 'amqp') c.headers = r.chance(0.1) ? hostileHeaders(r) : undefined;
  return c;
}

function correlation311(r: Rng, tag: string): { value?: unknown; key?: string; note: string } {
  return r.weighted<() => { value?: unknown; key?: string; note: string }>([
    [6, () => ({ value: tag, key: tag, note: 'plain' })],
    [
      3,
      () => {
        const v = withTag(r, hostileText(r, r.int(0, 100 - tag.length), { control: true }), tag);
        return { value: v, key: v, note: 'odd characters' };
      },
    ],
    [1, () => ({ value: undefined, note: 'absent' })],
  ])();
}

/** Reply topics the intake rules refuse (Mosquitto still forwards them in a Response Topic). */
function badMqttTopic(r: Rng, inEnvelope: boolean): { topic: unknown } {
  const pool: unknown[] = ['', '+', '#', 'a/+/b', 'a/#', `fz/${r.int(0, 1e6)}/#`, '$SYS/fuzz', '$share/g/x', '$fuzz/x'];
  // control characters, too long and non-strings can only travel inside a 3.1.1 envelope
  if (inEnvelope)
    pool.push('a\u0000b', 'a\u0001b', 'a\u007fb', 'a\u0085b', `fz/${r.pick(C0C1)}`, 'x'.repeat(65536), 5, null, ['x'], {
      t: 'x',
    });
  return { topic: r.pick(pool) };
}

function amqpAddress(r: Rng, c: FuzzCase, mode: ReplyMode, ctx: GenContext, env: unknown): void {
  const envId = typeof env === 'object' && env !== null ? (env as Record<string, unknown>).id : undefined;
  if (mode === 'none') {
    if (r.chance(0.5))
      c.messageId = clipBytes(
        r.chance(0.7) ? `${c.tag}` : withTag(r, hostileText(r, r.int(0, 60), { control: true }), c.tag),
        255,
      );
    // an empty reply_to is an unusable reply address: not run, BAD_REQUEST as command.completed
    if (r.chance(0.1)) {
      c.replyTo = '';
      c.note += '; reply_to ""';
      c.want = 'error';
      c.codes = ['BAD_REQUEST'];
    }
    c.expect = 'completion-or-deadletter';
    return;
  }
  if (mode === 'bad') {
    // Direct reply-to names the broker never issued: RabbitMQ 3.10 drops the publishing connection over some
    // (541 INTERNAL_ERROR), so they are rare here. (Not 'amq.rabbitmq.reply-to' itself: RabbitMQ closes the
    // publishing channel, ours, unless it consumes direct replies.)
    const direct = r.chance(0.015)
      ? [r.pick(['amq.rabbitmq.reply-to.g2dkAA', `amq.rabbitmq.reply-to.${hostileText(r, 30, { control: true })}`])]
      : [];
    c.replyTo = clipBytes(
      direct[0] ??
        r.pick([
          `fz-nonexistent-${c.tag}`,
          `fz-${hostileText(r, r.int(1, 200), { control: true })}`,
          ' ',
          '.',
          '#',
          '*',
          'virtbus.dlq.nope',
          `amq.${c.tag}`,
        ]),
      255,
    );
    c.correlationId = c.tag;
    c.expect = 'unobservable';
    c.note += `; reply_to ${short(JSON.stringify(c.replyTo), 40)}`;
    return;
  }
  c.replyTo = mode === 'odd' ? r.pick(ctx.oddReplyTo) : ctx.replyTo;
  c.expect = 'reply';
  const how =
    c.cls === 'correlation'
      ? r.pick(['odd', 'odd', 'max', 'empty', 'message-id-only', 'message-id-differs', 'none', 'none-long-id'] as const)
      : r.weighted([
          [8, 'plain'],
          [1, 'odd'],
          [1, 'message-id-same'],
        ] as const);
  switch (how) {
    case 'plain':
      c.correlationId = c.tag;
      break;
    case 'message-id-same':
      c.correlationId = c.tag;
      c.messageId = c.tag;
      break;
    case 'odd':
      c.correlationId = clipBytes(withTag(r, hostileText(r, r.int(0, 120), { control: true }), c.tag), 255);
      break;
    case 'max':
      c.correlationId = clipBytes(withTag(r, hostileText(r, 300, { control: true }), c.tag), 255);
      if (!c.correlationId.includes(c.tag)) c.correlationId = c.tag;
      break;
    case 'empty':
      c.correlationId = '';
      break;
    case 'message-id-only':
      c.messageId = withTag(r, hostileText(r, r.int(0, 60)), c.tag);
      c.messageId = clipBytes(c.messageId, 255);
      if (!c.messageId.includes(c.tag)) c.messageId = c.tag;
      break;
    case 'message-id-differs':
      c.correlationId = c.tag;
      c.messageId = `${c.tag}-other`;
      c.want = 'error';
      c.codes = ['BAD_REQUEST'];
      break;
    case 'none':
      break;
    case 'none-long-id':
      break;
  }
  if (how !== 'plain') c.note += `; correlation ${how}`;
  // the correlation the reply must carry: correlation_id, else message_id, else id (if ≤ 255 bytes)
  if (c.correlationId !== undefined) c.replyKey = c.correlationId === '' ? undefined : c.correlationId;
  else if (c.messageId !== undefined) c.replyKey = c.messageId;
  else if (typeof envId === 'string' && envId.length > 0 && Buffer.byteLength(envId) <= 255 && !idProblem(envId))
    c.replyKey = envId;
  else if (typeof envId === 'string' && Buffer.byteLength(envId) > 255 && c.cls === 'correlation') {
    // the id is the correlation and AMQP cannot carry it: BAD_REQUEST, replied without correlation_id
    c.want = 'error';
    c.codes = ['BAD_REQUEST'];
  }
}

function mqtt5Address(r: Rng, c: FuzzCase, mode: ReplyMode, ctx: GenContext): void {
  if (mode === 'none') {
    c.expect = 'completion-or-deadletter';
    return;
  }
  if (mode === 'bad') {
    c.replyTo = badMqttTopic(r, false).topic as string;
    c.correlationData = Buffer.from(c.tag);
    c.expect = 'completion-or-deadletter';
    c.want = 'error';
    c.codes = ['BAD_REQUEST'];
    c.note += `; response topic ${short(JSON.stringify(c.replyTo), 40)}`;
    return;
  }
  c.replyTo = mode === 'odd' ? r.pick(ctx.oddReplyTo) : ctx.replyTo;
  c.expect = 'reply';
  const how =
    c.cls === 'correlation'
      ? r.pick(['bytes', 'bytes', 'invalid-utf8', 'nul', 'long', 'empty', 'none'] as const)
      : r.weighted([
          [9, 'plain'],
          [1, 'bytes'],
        ] as const);
  const tag = Buffer.from(c.tag);
  switch (how) {
    case 'plain':
      c.correlationData = tag;
      break;
    case 'bytes':
      c.correlationData = Buffer.concat([r.bytes(r.int(0, 40)), tag, r.bytes(r.int(0, 40))]);
      break;
    case 'invalid-utf8':
      c.correlationData = Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), tag, Buffer.from([0xed, 0xa0, 0x80, 0x80])]);
      break;
    case 'nul':
      c.correlationData = Buffer.concat([Buffer.from([0]), tag, Buffer.from([0, 0])]);
      break;
    case 'long':
      c.correlationData = Buffer.concat([tag, r.bytes(r.pick([255, 256, 4096, 65000]))]);
      break;
    case 'empty':
      c.correlationData = Buffer.alloc(0);
      break;
    case 'none':
      break;
  }
  if (how !== 'plain') c.note += `; correlation data ${how}`;
  c.replyKey = c.correlationData && c.correlationData.length > 0 ? hex(c.correlationData) : undefined;
}

function hostileHeaders(r: Rng): Record<string, unknown> {
  return r.pick<Record<string, unknown>>([
    { 'x-delivery-count': 1e9 },
    { 'x-first-death-queue': 'virtbus.cmd.other' },
    { specversion: '1.0', ce_type: `${PREFIX}domain.destroy` },
    { [hostileText(r, 20)]: hostileText(r, 100, { control: true }) },
    { nested: { a: [1, 'b', { c: null }] } },
    { big: 2 ** 62 },
  ]);
}

// ---------------------------------------------------------------- the safety net

/**
 * Throws if any reading of this message could be a valid command other than
 * agent.ping / domain.list. Deliberately independent of the agent's codecs and
 * generous: every type candidate (core, shadowing attributes, repeated or
 * differently-cased user properties) is combined with every data candidate.
 */
export function assertHarmless(c: FuzzCase, profile: Profile): void {
  // one view per way of reading the message; within a view every type candidate meets every data candidate
  const views: Array<{ how: string; types: unknown[]; datas: unknown[]; opaque: boolean }> = [];
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  try {
    const v = JSON.parse(c.body.toString('utf8'));
    if (obj(v)) views.push({ how: 'JSON', types: [v.type], datas: [v.data], opaque: false });
  } catch {
    /* not JSON */
  }
  if (profile !== 'mqtt4') {
    try {
      const { env, dataKind } = pbDecode(c.body);
      const view = {
        how: 'protobuf',
        types: [env.type] as unknown[],
        datas: [env.data] as unknown[],
        opaque: dataKind === 'proto' || dataKind === 'binary',
      };
      for (const [k, v] of Object.entries(env.attributes as Record<string, unknown>)) {
        if (k.toLowerCase() === 'type') view.types.push(v);
        if (k.toLowerCase() === 'data') {
          view.datas.push(v);
          try {
            view.datas.push(JSON.parse(String(v)));
          } catch {
            /* text */
          }
        }
      }
      views.push(view);
    } catch {
      /* not protobuf */
    }
  }
  if (c.userProperties) {
    const view = { how: 'binary mode', types: [] as unknown[], datas: [] as unknown[], opaque: false };
    for (const [k, v] of Object.entries(c.userProperties))
      if (k.toLowerCase() === 'type') view.types.push(...[v].flat());
    // the payload is the data (JSON, text) or, for other content types, data_base64 (no data)
    const t = (c.contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
    const jsonOrText = t === 'application/json' || t.endsWith('+json') || t.startsWith('text/');
    if (c.body.length === 0 || !jsonOrText) view.datas.push(undefined);
    view.datas.push(c.body.toString('utf8'));
    try {
      view.datas.push(JSON.parse(c.body.toString('utf8')));
    } catch {
      /* not JSON */
    }
    views.push(view);
  }
  for (const v of views) {
    for (const t of v.types) {
      if (typeof t !== 'string') continue;
      for (const name of [
        t.startsWith(PREFIX) ? t.slice(PREFIX.length) : undefined,
        t.trim().replace(/^virtbus\.cmd\./i, ''),
      ]) {
        if (!name || !isCommandName(name) || ALLOWED_VALID.has(name)) continue;
        if (v.opaque || v.datas.some((d) => dataValid(name, d))) {
          throw new Error(
            `fuzz generator produced a message that could be a valid ${name} read as ${v.how} (case ${c.tag}, ${c.cls}: ${c.note}); only agent.ping and domain.list may be valid`,
          );
        }
      }
    }
  }
}

/** Every mutating command's schema must refuse an extra property (the generator relies on invalid data being easy to make). */
export function selfCheck(): void {
  for (const name of COMMAND_NAMES) {
    const base = { ...(exampleData.get(name) ?? {}), fuzz_extra: 1 };
    if (dataValid(name, base))
      throw new Error(
        `${name}: its data schema accepts unknown properties; the fuzz generator's invalid data needs another way`,
      );
    if (!ALLOWED_VALID.has(name) && dataValid(name, 'x')) throw new Error(`${name}: accepts a string as data`);
  }
}

/** A short, printable account of a case for failure messages. */
export function describeCase(c: FuzzCase): string {
  const body =
    c.body.length === 0
      ? '(empty)'
      : isText(c.body)
        ? JSON.stringify(short(c.body.toString('utf8'), 160))
        : `hex ${short(c.body.toString('hex'), 160)}`;
  const props: Record<string, unknown> = {};
  if (c.contentType !== undefined) props.contentType = short(c.contentType, 60);
  if (c.messageId !== undefined) props.messageId = short(c.messageId, 60);
  if (c.correlationId !== undefined) props.correlationId = short(c.correlationId, 60);
  if (c.correlationData !== undefined) props.correlationData = `hex ${short(c.correlationData.toString('hex'), 60)}`;
  if (c.replyTo !== undefined) props.replyTo = short(c.replyTo, 60);
  if (c.userProperties)
    props.userProperties = Object.fromEntries(
      Object.entries(c.userProperties).map(([k, v]) => [k, short(String(v), 60)]),
    );
  return (
    `${c.tag} (seed ${c.seed} #${c.n}) [${c.cls}] ${c.note}; expect ${c.expect}${c.replyKey !== undefined ? ` key ${short(JSON.stringify(c.replyKey), 50)}` : ''}` +
    `${c.completionKey !== undefined ? ` completion id ${short(JSON.stringify(c.completionKey), 50)}` : ''}; ${c.body.length} bytes ${body}; props ${JSON.stringify(props)}`
  );
}

function isText(b: Buffer): boolean {
  const s = b.subarray(0, 200).toString('utf8');
  return !s.includes('\ufffd') && !/[\u0000-\u0008\u000e-\u001f]/.test(s);
}
