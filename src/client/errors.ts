// The SDK's one error class: a command's error reply (the contract's code,
// message and, when libvirt raised it, the libvirt block), or no reply in
// time on the caller's side (TIMEOUT with `local`).
import type { ReplyData } from '../contract/events';
import type { ErrorCode } from '../contract/errors';

type WireError = Extract<ReplyData, { ok: false }>['error'];

export class VirtbusError extends Error {
  /** the contract's error code: NOT_FOUND, CONFLICT, FORBIDDEN, TIMEOUT, … (contracts/errors.json) */
  readonly code: ErrorCode;
  /** libvirt's error, when libvirt raised it: its number, domain and name (VIR_ERR_NO_DOMAIN) */
  readonly libvirt?: { code: number; domain: number; name: string };
  readonly details?: unknown;
  /** the command and its id */
  readonly command: string;
  readonly id?: string;
  /** true: decided here (no reply within the time), not by an agent */
  readonly local: boolean;

  constructor(e: WireError, o: { command: string; id?: string; local?: boolean }) {
    super(`${o.command}: ${e.code}: ${e.message}${e.libvirt ? ` (libvirt ${e.libvirt.name})` : ''}`);
    this.name = 'VirtbusError';
    // an agent of a later contract version may send a code this one does not know: kept as sent
    this.code = e.code as ErrorCode;
    if (e.libvirt) this.libvirt = e.libvirt;
    if (e.details !== undefined) this.details = e.details;
    this.command = o.command;
    if (o.id !== undefined) this.id = o.id;
    this.local = o.local ?? false;
  }
}

export function isVirtbusError(e: unknown, code?: ErrorCode): e is VirtbusError {
  return e instanceof VirtbusError && (code === undefined || e.code === code);
}
