import { fitsUserProperties, mqttPayload, toBinary } from '../../../src/bus/mqtt/cloudevents';
import { jsonCodec } from '../../../src/codec/json';
import { hostileText } from '../../helpers/fuzz/generator';
import { Rng } from '../../helpers/fuzz/rng';

const env = (o: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ specversion: '1.0', id: 'x', source: 's', type: 't', data: {}, ...o }));

test('attributes that MQTT User Properties cannot carry send the event in structured mode instead', () => {
  expect(fitsUserProperties(toBinary(env({ subject: 'virtbus.cmd.domain.start' }))!.userProperties)).toBe(true);
  expect(fitsUserProperties(toBinary(env({ subject: 'a\u0000b' }))!.userProperties)).toBe(false);
  expect(fitsUserProperties(toBinary(env({ subject: 'a\tb' }))!.userProperties)).toBe(false);
  expect(fitsUserProperties(toBinary(env({ subject: 'x'.repeat(70_000) }))!.userProperties)).toBe(false);
  expect(fitsUserProperties(toBinary(env({ subject: 'a\ud800' }))!.userProperties)).toBe(false);
});

/** A value as handlers return them: nested, with what JSON drops or rewrites (undefined, Date, -0, NaN, Buffer). */
function value(r: Rng, depth = 0): unknown {
  const kind = r.int(0, depth > 3 ? 6 : 8);
  switch (kind) {
    case 0:
      return hostileText(r, r.int(0, 40), { control: r.chance(0.3), lone: r.chance(0.1) });
    case 1:
      return r.pick([0, -0, 1.5, -7, 2 ** 53, NaN, Infinity]);
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return undefined;
    case 5:
      return new Date(r.int(0, 2 ** 40));
    case 6:
      return Buffer.from(hostileText(r, r.int(0, 8)));
    case 7:
      return Array.from({ length: r.int(0, 4) }, () => value(r, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(0, 5) }, () => [hostileText(r, r.int(1, 12)), value(r, depth + 1)]),
      );
  }
}

test("MQTT 5 binary mode built from the codec's envelope is byte for byte what parsing the body back gives", () => {
  const r = new Rng(20261204);
  for (let i = 0; i < 3000; i++) {
    const extra: Record<string, unknown> = {};
    if (r.chance(0.4)) extra.traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    if (r.chance(0.4))
      extra.correlationid = hostileText(r, r.int(1, 60), { control: r.chance(0.2), lone: r.chance(0.1) });
    if (r.chance(0.1)) extra.tracestate = undefined;
    const e = jsonCodec.encodeEvent({
      type: 'virtbus.reply',
      source: 'virtbus://n1',
      ...(r.chance(0.8) && { subject: hostileText(r, r.int(1, 40), { control: r.chance(0.2) }) }),
      data: r.chance(0.5) ? { ok: true, result: value(r) } : value(r),
      extra,
    });
    expect(e.envelope).toBeDefined();
    const direct = mqttPayload(5, e.body, e.contentType, e.envelope);
    const parsed = mqttPayload(5, e.body, e.contentType);
    expect(direct).toStrictEqual(parsed);
    expect(direct.payload.equals(parsed.payload)).toBe(true);
  }
});
