// The configuration's command authenticity: trusted senders and/or trusted
// keys, and the idempotency window they need (at least twice the signature
// skew, so every replay that passes the time check is still in the record).
import { Authenticity } from '../auth/authenticity';
import { loadTrustedKeys, TrustedKeysError } from '../auth/trusted-keys';
import { ConfigError, type AgentConfig } from './config';

export interface AuthenticitySetup {
  authenticity?: Authenticity;
  idempotencyWindowS: number;
  /** what an operator should know, for the log */
  notes: string[];
}

/** SIGHUP: the trusted keys file again; undefined when there is none. Throws TrustedKeysError, keys unchanged. */
export function reloadTrustedKeys(cfg: AgentConfig, a: Authenticity | undefined): number | undefined {
  if (!cfg.trustedKeys || !a) return undefined;
  const keys = loadTrustedKeys(cfg.trustedKeys);
  a.replaceKeys(keys);
  return keys.size;
}

export function authenticityOf(cfg: AgentConfig): AuthenticitySetup {
  const notes: string[] = [];
  const senders = cfg.trustedSenders
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let keys;
  if (cfg.trustedKeys) {
    try {
      keys = loadTrustedKeys(cfg.trustedKeys);
    } catch (e) {
      if (e instanceof TrustedKeysError) throw new ConfigError(e.message);
      throw e;
    }
    notes.push(`signed commands required: ${keys.size} trusted key(s) from ${cfg.trustedKeys}`);
  }
  if (senders.length) notes.push(`commands run only from AMQP users ${senders.join(', ')}`);
  let idempotencyWindowS = cfg.idempotencyWindowS;
  if (keys && idempotencyWindowS < 2 * cfg.signatureSkewS) {
    idempotencyWindowS = 2 * cfg.signatureSkewS;
    notes.push(
      `idempotency window raised from ${cfg.idempotencyWindowS} s to ${idempotencyWindowS} s (twice the signature skew)`,
    );
  }
  if (!keys && !senders.length) return { idempotencyWindowS, notes };
  return {
    authenticity: new Authenticity({
      ...(senders.length && { trustedSenders: senders }),
      ...(keys && { keys }),
      skewMs: cfg.signatureSkewS * 1000,
    }),
    idempotencyWindowS,
    notes,
  };
}
