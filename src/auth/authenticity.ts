// Who sent a command (contract v1, "Command authenticity"): a validated AMQP
// sender and/or an Ed25519 signature by a trusted key, checked in the
// contract's order — sender, then time, then target and signature, then the
// key's allowlist — before the idempotency record is consulted. A refusal is
// a FORBIDDEN CommandError whose message begins with the contract's phrase.
import { COMMAND_TYPE_PREFIX } from '../contract/addresses';
import { hasControlCharacter } from '../contract/text';
import { CommandError } from '../errors';
import { JcsError } from './jcs';
import { SIGNED_TIME, verifyFields } from './signing';
import type { TrustedKey } from './trusted-keys';

export const REFUSALS = [
  'sender not trusted',
  'signature required',
  'unknown key',
  'bad signature',
  'stale time',
  'command not allowed for key',
] as const;
export type Refusal = (typeof REFUSALS)[number];

export interface AuthenticityOptions {
  /** AMQP user_id values (validated by RabbitMQ) whose commands run; undefined: not checked */
  trustedSenders?: readonly string[];
  /** trusted public keys by id; undefined: signatures are not required (and ignored) */
  keys?: ReadonlyMap<string, TrustedKey>;
  /** how far a signed command's time may be from the agent's clock */
  skewMs: number;
  now?: () => number;
}

/** A decoded command as it arrived. */
export interface ArrivedCommand {
  id: string;
  type: string;
  source: string;
  time?: unknown;
  datacontenttype?: unknown;
  data?: unknown;
  sigkeyid?: unknown;
  signature?: unknown;
  /** the node id whose queue or topic it came on, or 'all' (broadcast) */
  target: string;
  /** AMQP user_id (the broker refuses one that is not the publisher's user) */
  userId?: string;
}

export class Authenticity {
  readonly refused = Object.fromEntries(REFUSALS.map((r) => [r, 0])) as Record<Refusal, number>;
  private readonly senders?: ReadonlySet<string>;
  private keys?: ReadonlyMap<string, TrustedKey>;

  constructor(private readonly o: AuthenticityOptions) {
    if (o.trustedSenders) this.senders = new Set(o.trustedSenders);
    this.keys = o.keys;
  }

  /** New trusted keys (SIGHUP); only where keys were configured: signing cannot be switched on or off here. */
  replaceKeys(keys: ReadonlyMap<string, TrustedKey>): void {
    if (!this.keys) throw new Error('this agent was started without trusted keys');
    this.keys = keys;
  }

  /** the refusals so far, as agent.status reports them */
  counts(): Record<string, number> {
    const r = this.refused;
    return {
      senderNotTrusted: r['sender not trusted'],
      signatureRequired: r['signature required'],
      unknownKey: r['unknown key'],
      badSignature: r['bad signature'],
      staleTime: r['stale time'],
      commandNotAllowed: r['command not allowed for key'],
    };
  }

  /** whether signatures are checked */
  get requiresSignature(): boolean {
    return this.keys !== undefined;
  }

  /** undefined: it may run; else the refusal to answer with (nothing runs, nothing is recorded). */
  check(c: ArrivedCommand): CommandError | undefined {
    if (this.senders && (c.userId === undefined || !this.senders.has(c.userId))) {
      return this.refuse('sender not trusted', c.userId === undefined ? 'no user_id' : `user_id ${c.userId}`);
    }
    const keys = this.keys;
    if (!keys) return undefined;

    if (typeof c.time !== 'string') return this.refuse('stale time', 'the command has no time');
    if (!SIGNED_TIME.test(c.time)) return this.refuse('stale time', 'time must be written YYYY-MM-DDTHH:MM:SS.sssZ');
    const now = this.o.now?.() ?? Date.now();
    const off = Date.parse(c.time) - now;
    if (Number.isNaN(off) || Math.abs(off) > this.o.skewMs) {
      return this.refuse('stale time', `time ${c.time} is more than ${this.o.skewMs / 1000} s from the agent's clock`);
    }

    if (c.sigkeyid === undefined || c.signature === undefined) return this.refuse('signature required');
    if (typeof c.sigkeyid !== 'string') return this.refuse('unknown key');
    const key = keys.get(c.sigkeyid);
    if (!key) return this.refuse('unknown key', c.sigkeyid.slice(0, 64));
    if (typeof c.signature !== 'string') return this.refuse('bad signature');
    if ([c.id, c.type, c.source].some(hasControlCharacter)) {
      return this.refuse('bad signature', 'id, type and source of a signed command hold no control characters');
    }
    if (c.datacontenttype !== undefined && typeof c.datacontenttype !== 'string') return this.refuse('bad signature');
    let valid: boolean;
    try {
      valid = verifyFields(
        key.publicKey,
        {
          id: c.id,
          type: c.type,
          source: c.source,
          time: c.time,
          target: c.target,
          sigkeyid: c.sigkeyid,
          datacontenttype: c.datacontenttype,
          data: c.data,
        },
        c.signature,
      );
    } catch (e) {
      if (!(e instanceof JcsError)) throw e;
      return this.refuse('bad signature', `data: ${e.message}`);
    }
    if (!valid) return this.refuse('bad signature');

    const command = c.type.startsWith(COMMAND_TYPE_PREFIX) ? c.type.slice(COMMAND_TYPE_PREFIX.length) : c.type;
    if (!key.allows(command)) return this.refuse('command not allowed for key', `${key.id} may not send ${command}`);
    return undefined;
  }

  private refuse(reason: Refusal, detail?: string): CommandError {
    this.refused[reason]++;
    return new CommandError('FORBIDDEN', detail ? `${reason}: ${detail}` : reason);
  }
}
