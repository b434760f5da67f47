// Schema pieces the command families share (names, references, summaries
// of domains, pools, volumes and networks, job info). Part of the contract
// source; see commands.ts.
import { Type as T, type TLiteral, type TUnion } from '@sinclair/typebox';
import { DOMAIN_STATES } from './domain-states';

/** One of these words, as a union of literals whose static type is the words themselves (not string). */
export const Literals = <const L extends readonly string[]>(
  words: L,
): TUnion<{ -readonly [K in keyof L]: TLiteral<L[K]> }> =>
  T.Union(words.map((w) => T.Literal(w))) as unknown as TUnion<{ -readonly [K in keyof L]: TLiteral<L[K]> }>;

export const Name = T.String({ minLength: 1, maxLength: 255 });
export const DomainRef = T.String({ minLength: 1, maxLength: 255, description: 'domain name or UUID' });
export const Empty = T.Object({}, { additionalProperties: false });
export const DomainStateWord = Literals(DOMAIN_STATES);
/**
 * Integers in commands stay exact in every JSON implementation (and in signed
 * data, contract "Command authenticity"): a larger number would lose digits
 * on its way to libvirt (2^64 KiB arrived as 0).
 */
export const MAX_INT = Number.MAX_SAFE_INTEGER;
export const Bytes = T.Integer({ minimum: 0, maximum: MAX_INT });
export const Xml = T.String({ minLength: 1, maxLength: 1024 * 1024 });
export const Affect = { live: T.Optional(T.Boolean()), config: T.Optional(T.Boolean()) };

export const DomainSummary = T.Object({
  uuid: T.String(),
  name: T.String(),
  id: T.Integer(),
  state: DomainStateWord,
  persistent: T.Boolean(),
});
export const DomainStateResult = T.Object({ uuid: T.String(), name: T.String(), state: DomainStateWord });
export const PoolSummary = T.Object({
  uuid: T.String(),
  name: T.String(),
  state: T.String(),
  capacity: Bytes,
  allocation: Bytes,
  available: Bytes,
  persistent: T.Optional(T.Boolean()),
  autostart: T.Optional(T.Boolean()),
});
export const VolumeSummary = T.Object({
  name: T.String(),
  key: T.String(),
  path: T.String(),
  capacity: Bytes,
  allocation: Bytes,
  format: T.Optional(T.String()),
  type: T.Optional(T.String()),
});
export const NetworkSummary = T.Object({
  uuid: T.String(),
  name: T.String(),
  active: T.Boolean(),
  persistent: T.Boolean(),
  autostart: T.Boolean(),
  bridge: T.Optional(T.String()),
});
export const NameUuid = T.Object({ uuid: T.String(), name: T.String() });
export const JobState = Literals(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export const JobInfo = T.Object({
  id: T.String(),
  command: T.String(),
  state: JobState,
  /** the runner's last progress report (migration: phase, data total/processed/remaining, dirty rate, iteration, …) */
  progress: T.Optional(T.Unknown()),
  /** the command's result once it succeeded */
  result: T.Optional(T.Unknown()),
  /** the wire error once it failed or was cancelled */
  error: T.Optional(T.Unknown()),
  createdAt: T.Optional(T.String()),
  finishedAt: T.Optional(T.String()),
  /** the job kind (concurrency class), e.g. migrate */
  kind: T.Optional(T.String()),
  startedAt: T.Optional(T.String()),
  /** the outcome was decided by reconciliation after an agent restart */
  recovered: T.Optional(T.Boolean()),
});
