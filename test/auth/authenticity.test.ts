// The contract's order of checks — sender, then time, then target and
// signature, then the key's allowlist — each refusal FORBIDDEN with the
// contract's phrase first, counted by reason.
import { generateKeyPairSync } from 'node:crypto';
import { Authenticity, type ArrivedCommand } from '../../src/auth/authenticity';
import { signFields } from '../../src/auth/signing';
import { parseTrustedKeys } from '../../src/auth/trusted-keys';
import { CommandError } from '../../src/errors';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const orch = generateKeyPairSync('ed25519');
const reader = generateKeyPairSync('ed25519');
const keys = parseTrustedKeys(
  {
    keys: [
      { id: 'orch', publicKey: orch.publicKey.export({ type: 'spki', format: 'pem' }), allow: ['*'] },
      { id: 'reader', publicKey: reader.publicKey.export({ type: 'spki', format: 'pem' }), allow: ['*.list', '*.get'] },
    ],
  },
  'test',
);

function signed(o: Partial<ArrivedCommand> & { key?: 'orch' | 'reader'; signAs?: Partial<ArrivedCommand> } = {}) {
  const c: ArrivedCommand = {
    id: 'c1',
    type: 'virtbus.cmd.domain.destroy',
    source: 'urn:test',
    time: '2026-12-01T12:00:10.000Z',
    data: { domain: 'web-1' },
    target: 'node1',
    sigkeyid: o.key ?? 'orch',
    ...o,
  };
  const s = { ...c, ...o.signAs };
  const priv = (o.key ?? 'orch') === 'orch' ? orch.privateKey : reader.privateKey;
  // an explicit signature (even undefined) stays as given
  if (!('signature' in o))
    c.signature = signFields(priv, {
      id: s.id,
      type: s.type,
      source: s.source,
      time: s.time as string,
      target: s.target,
      sigkeyid: s.sigkeyid as string,
      datacontenttype: s.datacontenttype as string | undefined,
      data: s.data,
    });
  return c;
}

const make = (o: { senders?: string[]; withKeys?: boolean } = {}) =>
  new Authenticity({
    ...(o.senders && { trustedSenders: o.senders }),
    ...(o.withKeys !== false && { keys }),
    skewMs: 60_000,
    now: () => NOW,
  });

const refusal = (e: CommandError | undefined) => (e ? `${e.code} ${e.message}` : 'runs');

test('a well-signed command runs; the same command signed for another node or for all does not', () => {
  const a = make();
  expect(a.check(signed())).toBeUndefined();
  expect(refusal(a.check(signed({ target: 'node2', signAs: { target: 'node1' } })))).toBe('FORBIDDEN bad signature');
  expect(a.check(signed({ target: 'all' }))).toBeUndefined();
  expect(refusal(a.check(signed({ target: 'node1', signAs: { target: 'all' } })))).toBe('FORBIDDEN bad signature');
});

test.each<[string, Partial<ArrivedCommand> & { signAs?: Partial<ArrivedCommand>; key?: 'orch' | 'reader' }, string]>([
  ['unsigned', { sigkeyid: undefined, signature: 'x' }, 'signature required'],
  ['no signature', { signature: undefined as unknown as string, sigkeyid: 'orch' }, 'signature required'],
  ['unknown key', { sigkeyid: 'nobody' }, 'unknown key'],
  ['tampered data (one byte)', { data: { domain: 'web-2' }, signAs: { data: { domain: 'web-1' } } }, 'bad signature'],
  [
    'tampered type',
    { type: 'virtbus.cmd.domain.start', signAs: { type: 'virtbus.cmd.domain.destroy' } },
    'bad signature',
  ],
  ['tampered content type', { datacontenttype: 'text/plain', signAs: { datacontenttype: undefined } }, 'bad signature'],
  ['padded signature', { signature: 'A'.repeat(86) + '==' }, 'bad signature'],
  ['a newline in the id', { id: 'c1\nnode2' }, 'bad signature'],
  ['no time', { time: undefined }, 'stale time'],
  ['time in another form', { time: '2026-12-01T12:00:10Z' }, 'stale time'],
  ['time too old', { time: '2026-12-01T11:58:59.999Z' }, 'stale time'],
  ['time too far ahead', { time: '2026-12-01T12:01:00.001Z' }, 'stale time'],
  ['outside the allowlist', { key: 'reader', sigkeyid: 'reader' }, 'command not allowed for key'],
])('refused: %s', (_what, o, phrase) => {
  const a = make();
  const e = a.check(signed(o));
  expect(e).toBeInstanceOf(CommandError);
  expect(e!.code).toBe('FORBIDDEN');
  expect(e!.message === phrase || e!.message.startsWith(`${phrase}: `)).toBe(true);
});

test('within the skew on either side runs; an allowed command of a narrow key runs', () => {
  const a = make();
  expect(a.check(signed({ time: '2026-12-01T11:59:00.000Z' }))).toBeUndefined();
  expect(a.check(signed({ time: '2026-12-01T12:01:00.000Z' }))).toBeUndefined();
  expect(a.check(signed({ key: 'reader', sigkeyid: 'reader', type: 'virtbus.cmd.domain.list' }))).toBeUndefined();
});

test('order: sender before time before signature before allowlist', () => {
  const a = make({ senders: ['orch-user'] });
  const worst = signed({ time: undefined, sigkeyid: 'nobody', key: 'reader' });
  expect(refusal(a.check({ ...worst, userId: 'intruder' }))).toBe('FORBIDDEN sender not trusted: user_id intruder');
  expect(refusal(a.check({ ...worst, userId: undefined }))).toBe('FORBIDDEN sender not trusted: no user_id');
  expect(refusal(a.check({ ...worst, userId: 'orch-user' }))).toMatch(/^FORBIDDEN stale time/);
  const timely = signed({ sigkeyid: 'nobody', userId: 'orch-user' });
  expect(refusal(a.check(timely))).toBe('FORBIDDEN unknown key: nobody');
  const wrongKey = signed({ key: 'reader', sigkeyid: 'reader', userId: 'orch-user', signAs: { id: 'other' } });
  expect(refusal(a.check(wrongKey))).toBe('FORBIDDEN bad signature'); // not "not allowed": the signature comes first
  expect(a.counts()).toEqual({
    senderNotTrusted: 2,
    signatureRequired: 0,
    unknownKey: 1,
    badSignature: 1,
    staleTime: 1,
    commandNotAllowed: 0,
  });
});

test('trusted senders alone: signatures are neither required nor looked at', () => {
  const a = make({ senders: ['orch-user'], withKeys: false });
  expect(a.requiresSignature).toBe(false);
  expect(
    a.check({ id: 'x', type: 'virtbus.cmd.domain.list', source: 's', target: 'n', userId: 'orch-user' }),
  ).toBeUndefined();
  expect(
    a.check({
      id: 'x',
      type: 'virtbus.cmd.domain.list',
      source: 's',
      target: 'n',
      userId: 'orch-user',
      signature: '!',
    }),
  ).toBeUndefined();
});

test('data that cannot be canonicalized is a bad signature, not a crash', () => {
  const a = make();
  const c = signed();
  expect(refusal(a.check({ ...c, data: { s: '\ud800' } }))).toMatch(/^FORBIDDEN bad signature: data: .*lone surrogate/);
});

test('trusted keys can be replaced (SIGHUP), but signing cannot be switched on where it was off', () => {
  const a = make();
  const other = generateKeyPairSync('ed25519');
  a.replaceKeys(
    parseTrustedKeys(
      { keys: [{ id: 'orch', publicKey: other.publicKey.export({ type: 'spki', format: 'pem' }), allow: ['*'] }] },
      'new',
    ),
  );
  // the old orch key no longer verifies under the replaced entry
  expect(refusal(a.check(signed()))).toBe('FORBIDDEN bad signature');
  expect(() => make({ senders: ['x'], withKeys: false }).replaceKeys(keys)).toThrow(/without trusted keys/);
});
