// JCS (RFC 8785) against the RFC's own examples: §3.2.2 (whitespace,
// literals, numbers, string escapes), §3.2.3 (member order by UTF-16 code
// units) and Appendix B (number serialization from IEEE 754 bit patterns).
import { canonicalize, JcsError } from '../../src/auth/jcs';

test('RFC 8785 §3.2.2: the parsed sample canonicalizes to the RFC text', () => {
  const input = `{
    "numbers": [333333333.33333329, 1E30, 4.50,
                2e-3, 0.000000000000000000000000001],
    "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
    "literals": [null, true, false]
  }`;
  expect(canonicalize(JSON.parse(input))).toBe(
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
});

test('RFC 8785 §3.2.3: members sorted by UTF-16 code units, strings left as they are', () => {
  const input = `{
    "\\u20ac": "Euro Sign",
    "\\r": "Carriage Return",
    "\\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\\ud83d\\ude00": "Emoji: Grinning Face",
    "\\u0080": "Control",
    "\\u00f6": "Latin Small Letter O With Diaeresis"
  }`;
  const out = canonicalize(JSON.parse(input));
  expect(out).toBe(
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
      '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
  // the property names in the RFC's order (read from the text: a JS object would list "1" first)
  expect([...out.matchAll(/"([^"]*)":"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string)).toEqual([
    '\r',
    '1',
    '\u0080',
    '\u00f6',
    '\u20ac',
    '\ud83d\ude00',
    '\ufb33',
  ]);
});

const fromBits = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0);

test.each([
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
])('RFC 8785 Appendix B: %s serializes as %s', (bits, text) => {
  expect(canonicalize(fromBits(bits))).toBe(text);
});

test('NaN and Infinity (Appendix B: errors), lone surrogates and non-JSON values are refused', () => {
  for (const bits of ['7fffffffffffffff', '7ff0000000000000'])
    expect(() => canonicalize(fromBits(bits))).toThrow(JcsError);
  expect(() => canonicalize({ a: '\ud800' })).toThrow(/lone surrogate/);
  expect(() => canonicalize({ ['\udc00']: 1 })).toThrow(/lone surrogate/);
  expect(() => canonicalize(new Date(0))).toThrow(JcsError);
  expect(() => canonicalize(() => 1)).toThrow(JcsError);
  expect(() => canonicalize(BigInt(1))).toThrow(JcsError);
});

test('nesting, empty containers, absent members, control characters in lower-case \\u00xx', () => {
  expect(canonicalize({ b: [], a: {}, c: [{ z: 1, y: [null] }], d: undefined })).toBe(
    '{"a":{},"b":[],"c":[{"y":[null],"z":1}]}',
  );
  expect(canonicalize('\u0000\u001f\b\f\t')).toBe('"\\u0000\\u001f\\b\\f\\t"');
  expect(canonicalize(null)).toBe('null');
  expect(canonicalize(Object.create(null) as object)).toBe('{}');
});
