import { attributeProblem, hasControlCharacter, isWellFormedUnicode, quote } from '../../src/contract/text';

test('control characters: C0, DEL and C1 are found; ordinary text and multi-byte characters are not', () => {
  for (const c of ['\u0000', '\t', '\n', '\u001f', '\u007f', '\u0085', '\u009f'])
    expect(hasControlCharacter(`a${c}b`)).toBe(true);
  for (const s of ['plain', 'é'.repeat(128), '日本語', '🙂', 'a.b.c', '%2E'])
    expect(hasControlCharacter(s)).toBe(false);
});

test('lone surrogates are not well-formed Unicode; pairs are', () => {
  expect(isWellFormedUnicode('🙂')).toBe(true);
  expect(isWellFormedUnicode('a\ud800b')).toBe(false);
  expect(isWellFormedUnicode('\udc00')).toBe(false);
});

test('attributeProblem names what is wrong without repeating the value', () => {
  expect(attributeProblem('id', 'ok-1', 128)).toBeUndefined();
  expect(attributeProblem('id', 'é'.repeat(128), 128)).toBeUndefined();
  expect(attributeProblem('id', '', 128)).toBe('id is empty');
  expect(attributeProblem('id', 'x'.repeat(129), 128)).toBe('id is 129 characters long (at most 128)');
  expect(attributeProblem('type', 'a\u0000b', 256)).toBe('type contains a control character');
  expect(attributeProblem('type', 'a\ud800', 256)).toBe('type is not valid Unicode (lone surrogate)');
});

test('quote bounds and escapes caller input', () => {
  expect(quote('abc')).toBe('"abc"');
  expect(quote('x'.repeat(100_000))).toHaveLength(64 + 3);
  expect(quote('a\nb')).toBe('"a\\nb"');
});

test('quote replaces every lone surrogate and keeps pairs', () => {
  expect(quote('a\ud800b\udc00🙂')).toBe(JSON.stringify('a\ufffdb\ufffd🙂'));
});
