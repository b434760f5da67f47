// Checks a contract message against its schemas: the envelope, then `data`
// by kind (command data, reply, event data), and a reply's result against
// the result schema of the command it answers.
import { COMMANDS, isCommandName } from './commands';
import { COMMAND_PREFIX, REPLY_TYPE } from './envelope';
import { CloudEvent } from './envelope-schema';
import { ReplyData } from './events';
import { EVENT_MESSAGES, dataMessageFor } from './proto-names';
import { validator } from './validate';

const envelope = validator(CloudEvent);
const reply = validator(ReplyData);
const cache = new Map<unknown, (v: unknown) => string | undefined>();
const check = (schema: object, v: unknown) => {
  let c = cache.get(schema);
  if (!c) cache.set(schema, (c = validator(schema as never)));
  return c(v);
};

/** Problems with a message, empty when it conforms. */
export function checkMessage(env: unknown): string[] {
  const problems: string[] = [];
  const e = env as CloudEvent;
  const envErr = envelope(env);
  if (envErr) return [`envelope: ${envErr}`];
  if (e.type.startsWith(COMMAND_PREFIX)) {
    const c = e.type.slice(COMMAND_PREFIX.length);
    if (!isCommandName(c)) return [`unknown command type ${e.type}`];
    const err = check(COMMANDS[c].data, e.data ?? {});
    if (err) problems.push(`data of ${c}: ${err}`);
  } else if (e.type === REPLY_TYPE) {
    const err = reply(e.data);
    if (err) problems.push(`reply data: ${err}`);
    const c = e.subject?.slice(COMMAND_PREFIX.length) ?? '';
    const d = e.data as { ok?: boolean; result?: unknown };
    if (!isCommandName(c)) problems.push(`reply subject '${e.subject}' names no command`);
    else if (d?.ok) {
      const r = check(COMMANDS[c].result, d.result);
      if (r) problems.push(`result of ${c}: ${r}`);
    }
  } else {
    const name = dataMessageFor(e.type, e.subject) as keyof typeof EVENT_MESSAGES | undefined;
    if (!name || !(name in EVENT_MESSAGES)) return [`unknown event type ${e.type}`];
    const err = check(EVENT_MESSAGES[name], e.data);
    if (err) problems.push(`data of ${e.type}: ${err}`);
  }
  return problems;
}
