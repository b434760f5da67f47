// The CLI's human output and its argument parsing, character for character:
// tables for lists, key/value lines for objects, the error line, and
// key=value words (or one JSON object) -> command data. --json output is
// agent/virtbus.ts's JSON.stringify of the reply and is not in this module.
import { formatReply, parseData, table } from '../../src/cli/format';
import type { ReplyData } from '../../src/contract/events';

const lines = (...l: string[]) => l.join('\n');

describe('table', () => {
  test('an empty list prints (none)', () => {
    expect(table([])).toBe('(none)');
  });

  test('columns are upper-case headers, padded to their widest cell, two spaces apart, without trailing blanks', () => {
    expect(
      table([
        { name: 'web-1', state: 'running', id: 1 },
        { name: 'db', state: 'shutoff', id: 12 },
      ]),
    ).toBe(lines('NAME   STATE    ID', 'web-1  running  1', 'db     shutoff  12'));
  });

  test('a header wider than its cells sets the column width', () => {
    expect(table([{ persistent: true, id: 1 }])).toBe(lines('PERSISTENT  ID', 'true        1'));
  });

  test('columns are every key of every row, in first-seen order; a missing, null or undefined cell prints -', () => {
    expect(
      table([
        { name: 'web-1', state: 'running', id: 1 },
        { name: 'db', state: 'shutoff', id: null, persistent: false },
        { name: 'tmp', id: undefined },
      ]),
    ).toBe(
      lines(
        'NAME   STATE    ID  PERSISTENT',
        'web-1  running  1   -',
        'db     shutoff  -   false',
        'tmp    -        -   -',
      ),
    );
  });

  test('objects and arrays in a cell print as compact JSON; other values as text', () => {
    expect(
      table([
        { name: 'vm', tags: ['a', 'b'], cpu: { cores: 2 }, on: false, mem: 0 },
        { name: 'x', tags: [], cpu: {}, on: true, mem: 1.5 },
      ]),
    ).toBe(
      lines(
        'NAME  TAGS       CPU          ON     MEM',
        'vm    ["a","b"]  {"cores":2}  false  0',
        'x     []         {}           true   1.5',
      ),
    );
  });
});

describe('formatReply', () => {
  test('an error prints its code and message', () => {
    const reply: ReplyData = { ok: false, error: { code: 'BAD_REQUEST', message: "'domain' is required" } };
    expect(formatReply(reply)).toBe("error BAD_REQUEST: 'domain' is required");
  });

  test("an error from libvirt also names libvirt's error", () => {
    const reply: ReplyData = {
      ok: false,
      error: {
        code: 'NOT_FOUND',
        message: "Domain not found: no domain with matching name 'nope'",
        libvirt: { code: 42, domain: 12, name: 'VIR_ERR_NO_DOMAIN' },
        details: { domain: 'nope' },
      },
    };
    expect(formatReply(reply)).toBe(
      "error NOT_FOUND: Domain not found: no domain with matching name 'nope' (libvirt VIR_ERR_NO_DOMAIN)",
    );
  });

  test('a result holding one list prints that list as a table', () => {
    const reply: ReplyData = {
      ok: true,
      result: {
        domains: [
          { uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', name: 'test', id: 1, state: 'running', persistent: true },
          { uuid: '11111111-1111-4111-8111-111111111111', name: 'backup', id: -1, state: 'shutoff', persistent: false },
        ],
      },
    };
    expect(formatReply(reply)).toBe(
      lines(
        'UUID                                  NAME    ID  STATE    PERSISTENT',
        '6695eb01-f6a4-8304-79aa-97f2502e193f  test    1   running  true',
        '11111111-1111-4111-8111-111111111111  backup  -1  shutoff  false',
      ),
    );
  });

  test('a result holding one empty list prints (none)', () => {
    expect(formatReply({ ok: true, result: { pools: [] } })).toBe('(none)');
  });

  test('a result holding one string (e.g. XML) prints the string as it is', () => {
    const xml = "<domain type='test'>\n  <name>test</name>\n</domain>";
    expect(formatReply({ ok: true, result: { xml } })).toBe(xml);
  });

  test('any other object prints as key/value lines, keys padded to the longest', () => {
    const reply: ReplyData = {
      ok: true,
      result: {
        uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f',
        name: 'test',
        state: 'running',
        memoryKiB: 8388608,
        autostart: false,
        reason: null,
        vcpus: { current: 2, max: 4 },
        disks: ['vda', 'vdb'],
      },
    };
    expect(formatReply(reply)).toBe(
      lines(
        'uuid       6695eb01-f6a4-8304-79aa-97f2502e193f',
        'name       test',
        'state      running',
        'memoryKiB  8388608',
        'autostart  false',
        'reason     -',
        'vcpus      {"current":2,"max":4}',
        'disks      ["vda","vdb"]',
      ),
    );
  });

  test('a list beside other fields is not a table: it prints as one JSON value among the key/value lines', () => {
    expect(formatReply({ ok: true, result: { count: 1, jobs: [{ id: 'j1' }] } })).toBe(
      lines('count  1', 'jobs   [{"id":"j1"}]'),
    );
  });

  test('a result of one field that is neither a list nor a string prints as one key/value line', () => {
    expect(formatReply({ ok: true, result: { state: { state: 'paused', reason: 'user' } } })).toBe(
      'state  {"state":"paused","reason":"user"}',
    );
    expect(formatReply({ ok: true, result: { freed: 0 } })).toBe('freed  0');
  });

  test('a scalar result prints as text; no result prints -', () => {
    expect(formatReply({ ok: true, result: 'pong' })).toBe('pong');
    expect(formatReply({ ok: true, result: 42 })).toBe('42');
    expect(formatReply({ ok: true, result: false })).toBe('false');
    expect(formatReply({ ok: true, result: null })).toBe('-');
    expect(formatReply({ ok: true, result: undefined })).toBe('-');
  });
});

describe('parseData', () => {
  test('no words give no data', () => {
    expect(parseData([])).toEqual({});
  });

  test('key=value words become fields; values that are JSON are parsed, others stay strings', () => {
    expect(
      parseData([
        'domain=test',
        'flags=3',
        'force=true',
        'timeout=1.5',
        'target=null',
        'disks=["vda","vdb"]',
        'opts={"live":true}',
        'title="42"',
        'path=/var/lib/libvirt/images/a.qcow2',
      ]),
    ).toEqual({
      domain: 'test',
      flags: 3,
      force: true,
      timeout: 1.5,
      target: null,
      disks: ['vda', 'vdb'],
      opts: { live: true },
      title: '42',
      path: '/var/lib/libvirt/images/a.qcow2',
    });
  });

  test('the value is everything after the first =, and may be empty', () => {
    expect(parseData(['uri=qemu+ssh://h/system?keyfile=/k', 'title='])).toEqual({
      uri: 'qemu+ssh://h/system?keyfile=/k',
      title: '',
    });
  });

  test('a key given twice keeps its last value', () => {
    expect(parseData(['domain=a', 'domain=b'])).toEqual({ domain: 'b' });
  });

  test('one word that is a JSON object is the whole data', () => {
    expect(parseData(['{"domain":"test","flags":1,"nested":{"a":[1,2]}}'])).toEqual({
      domain: 'test',
      flags: 1,
      nested: { a: [1, 2] },
    });
    expect(parseData(['  {"domain":"test"}'])).toEqual({ domain: 'test' });
  });

  test('one word that starts like a JSON object but is not JSON is an error', () => {
    expect(() => parseData(['{domain:test}'])).toThrow(SyntaxError);
  });

  test('a word without a key and = is refused with a message saying what is expected', () => {
    expect(() => parseData(['domain=test', 'test'])).toThrow(
      new Error("'test' is not key=value (or give one JSON object)"),
    );
    expect(() => parseData(['=test'])).toThrow(new Error("'=test' is not key=value (or give one JSON object)"));
  });

  test('a JSON object among other words is not special: it must be key=value too', () => {
    expect(() => parseData(['{"domain":"test"}', 'flags=1'])).toThrow(
      new Error('\'{"domain":"test"}\' is not key=value (or give one JSON object)'),
    );
  });
});
