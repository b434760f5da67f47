// The one catalogue of wire error codes (contract v1, "Reply data") and the
// error that becomes an error reply as it is. Every error reply carries one of
// these codes; a test checks each is documented in contracts/. Nothing here
// knows libvirt: the codec and the client SDK use it without the agent's
// native side (src/errors.ts maps libvirt's errors onto these codes).
export const ERROR_CODES = {
  BAD_REQUEST: 'malformed or invalid arguments',
  UNKNOWN_COMMAND: 'no such command in this contract version',
  NOT_FOUND: 'the domain, pool, volume, network or job does not exist',
  CONFLICT: 'wrong state for this operation, or the object already exists',
  FORBIDDEN: 'not allowed: read-only agent, denied by libvirt, bad signature',
  EXPIRED: "the command's deadline passed before it could start",
  TIMEOUT: 'the command did not finish within its time limit',
  CANCELLED: 'the command was cancelled',
  UNSUPPORTED: 'the hypervisor driver cannot do this',
  UNAVAILABLE: 'libvirt is not connected right now; try again',
  IN_PROGRESS: 'a command with the same id is still running',
  LIBVIRT: 'another libvirt error',
  INTERNAL: 'a bug or unexpected failure in the agent',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface LibvirtErrorBlock {
  code: number;
  domain: number;
  name: string;
}
export interface WireError {
  code: ErrorCode;
  message: string;
  libvirt?: LibvirtErrorBlock;
  details?: unknown;
}

/** An error that becomes an error reply as it is. */
export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly libvirt?: LibvirtErrorBlock,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
