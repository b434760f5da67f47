import { fitsUserProperties, toBinary } from '../../../src/bus/mqtt/cloudevents';

const env = (o: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ specversion: '1.0', id: 'x', source: 's', type: 't', data: {}, ...o }));

test('attributes that MQTT User Properties cannot carry send the event in structured mode instead', () => {
  expect(fitsUserProperties(toBinary(env({ subject: 'virtbus.cmd.domain.start' }))!.userProperties)).toBe(true);
  expect(fitsUserProperties(toBinary(env({ subject: 'a\u0000b' }))!.userProperties)).toBe(false);
  expect(fitsUserProperties(toBinary(env({ subject: 'a\tb' }))!.userProperties)).toBe(false);
  expect(fitsUserProperties(toBinary(env({ subject: 'x'.repeat(70_000) }))!.userProperties)).toBe(false);
  expect(fitsUserProperties(toBinary(env({ subject: 'a\ud800' }))!.userProperties)).toBe(false);
});
