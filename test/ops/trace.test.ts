import { freshTrace, traceAttributes, traceFromRecord, traceOf } from '../../src/ops/trace';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context of a command', () => {
  test('an envelope traceparent keeps its trace id; the agent gets a span of its own whose parent is the caller', () => {
    const t = traceOf({ traceparent: PARENT, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
    expect(t).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentId: '00f067aa0ba902b7',
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
      flags: '01',
      tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    });
    expect(t.spanId).not.toBe(t.parentId);
    expect(traceAttributes(t)).toEqual({
      traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${t.spanId}-01`,
      tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    });
  });

  test('the AMQP header / MQTT user property of the same name is used when the envelope has none; the envelope wins', () => {
    const other = '00-11111111111111111111111111111111-2222222222222222-00';
    expect(traceOf({}, { traceparent: Buffer.from(PARENT), tracestate: 'a=b' })).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      tracestate: 'a=b',
    });
    expect(traceOf({ traceparent: other }, { traceparent: PARENT, tracestate: 'a=b' })).toEqual(
      expect.objectContaining({ traceId: '11111111111111111111111111111111', flags: '00' }),
    );
    // the header's tracestate does not go with the envelope's traceparent
    expect(traceOf({ traceparent: other }, { tracestate: 'a=b' }).tracestate).toBeUndefined();
  });

  test.each([
    ['absent', undefined],
    ['not a string', 42],
    ['upper-case hex', PARENT.toUpperCase()],
    ['version ff', PARENT.replace(/^00/, 'ff')],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['version 00 with more fields', `${PARENT}-extra`],
    ['a line break and a log field', `${PARENT}\n{"level":60}`],
    ['far too long', `00-${'a'.repeat(5000)}`],
  ])('a traceparent that is %s starts a fresh trace (the command is not refused)', (_what, value) => {
    const t = traceOf({ traceparent: value, tracestate: 'a=b' });
    expect(t.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(t.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(t.parentId).toBeUndefined();
    expect(t.tracestate).toBeUndefined();
  });

  test('a later version is read by its first four fields', () => {
    expect(traceOf({ traceparent: `01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future` })).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentId: '00f067aa0ba902b7',
    });
  });

  test.each([
    ['a line break', 'a=b\nc=d'],
    ['no key', '=b'],
    ['a comma inside a value', 'a=b=c'],
    ['too long', `a=${'x'.repeat(600)}`],
    ['too many members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('a tracestate with %s is dropped; the traceparent stays', (_what, state) => {
    const t = traceOf({ traceparent: PARENT, tracestate: state });
    expect(t.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(t.tracestate).toBeUndefined();
  });

  test('fresh traces differ and are sampled', () => {
    const a = freshTrace();
    const b = freshTrace();
    expect(a.traceId).not.toBe(b.traceId);
    expect(traceAttributes(a).traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(traceAttributes(undefined)).toEqual({});
  });

  test('a trace kept with a job (JSON) is read back only when well-formed', () => {
    const t = traceOf({ traceparent: PARENT, tracestate: 'a=b' });
    expect(traceFromRecord(JSON.parse(JSON.stringify(t)))).toEqual(t);
    expect(traceFromRecord({ ...t, traceId: 'x' })).toBeUndefined();
    expect(traceFromRecord({ ...t, spanId: `${t.spanId}\n` })).toBeUndefined();
    expect(traceFromRecord({ ...t, tracestate: 'bad\nstate' })).toEqual({ ...t, tracestate: undefined });
    expect(traceFromRecord('00-…')).toBeUndefined();
    expect(traceFromRecord(null)).toBeUndefined();
  });
});
