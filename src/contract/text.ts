// Rules for text a caller chooses (command ids, types, reply addresses) that
// the agent copies into places with stricter rules than JSON: AMQP
// routing keys and shortstr properties, MQTT topics and User Properties,
// log lines. What the contract forbids is refused at intake; what it
// allows but a wire cannot carry is encoded where it is written
// (src/contract/addresses.ts: routing keys and topics).

/** C0 controls, DEL and C1 controls: Mosquitto refuses them as malformed UTF-8, and a newline would make signed lines ambiguous. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SURROGATE_PAIR = /[\ud800-\udbff][\udc00-\udfff]/g;
const SURROGATE = /[\ud800-\udfff]/;

export function hasControlCharacter(s: string): boolean {
  return CONTROL.test(s);
}

/** A lone surrogate (JSON can carry "\ud800") has no UTF-8 form: it would reach the wire as U+FFFD, another id. */
export function isWellFormedUnicode(s: string): boolean {
  return !SURROGATE.test(s.replace(SURROGATE_PAIR, ''));
}

/** Why s cannot be used as a command attribute (undefined: it can). */
export function attributeProblem(name: string, s: string, maxLength: number): string | undefined {
  if (s.length === 0) return `${name} is empty`;
  if (s.length > maxLength) return `${name} is ${s.length} characters long (at most ${maxLength})`;
  if (hasControlCharacter(s)) return `${name} contains a control character`;
  if (!isWellFormedUnicode(s)) return `${name} is not valid Unicode (lone surrogate)`;
  return undefined;
}

/** At most max characters of caller input for an error message or log line, JSON-quoted so nothing in it is taken for syntax. */
export function quote(s: string, max = 64): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  // lone surrogates only (pairs are kept), every one of them
  return JSON.stringify(
    cut.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );
}
