// The one catalogue of wire error codes (contract v1, "Reply data"). Every
// error reply carries one of these; a test checks each is documented in
// contracts/.
import { LibvirtError } from './libvirt/error';
import { NotConnectedError } from './libvirt/reconnecting';

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

// libvirt's virErrorNumber -> wire code. Unlisted codes are LIBVIRT.
const LIBVIRT_MAP: Record<string, ErrorCode> = {
  VIR_ERR_NO_DOMAIN: 'NOT_FOUND',
  VIR_ERR_NO_NETWORK: 'NOT_FOUND',
  VIR_ERR_NO_STORAGE_POOL: 'NOT_FOUND',
  VIR_ERR_NO_STORAGE_VOL: 'NOT_FOUND',
  VIR_ERR_NO_DOMAIN_SNAPSHOT: 'NOT_FOUND',
  VIR_ERR_NO_NODE_DEVICE: 'NOT_FOUND',
  VIR_ERR_NO_SECRET: 'NOT_FOUND',
  VIR_ERR_OPERATION_INVALID: 'CONFLICT',
  VIR_ERR_DOM_EXIST: 'CONFLICT',
  VIR_ERR_NETWORK_EXIST: 'CONFLICT',
  VIR_ERR_STORAGE_VOL_EXIST: 'CONFLICT',
  VIR_ERR_OPERATION_DENIED: 'FORBIDDEN',
  VIR_ERR_AUTH_FAILED: 'FORBIDDEN',
  VIR_ERR_ACCESS_DENIED: 'FORBIDDEN',
  VIR_ERR_NO_SUPPORT: 'UNSUPPORTED',
  VIR_ERR_OPERATION_UNSUPPORTED: 'UNSUPPORTED',
  VIR_ERR_ARGUMENT_UNSUPPORTED: 'UNSUPPORTED',
  VIR_ERR_CONFIG_UNSUPPORTED: 'UNSUPPORTED',
  VIR_ERR_INVALID_ARG: 'BAD_REQUEST',
  VIR_ERR_XML_ERROR: 'BAD_REQUEST',
  VIR_ERR_XML_DETAIL: 'BAD_REQUEST',
  VIR_ERR_XML_INVALID_SCHEMA: 'BAD_REQUEST',
  VIR_ERR_OPERATION_TIMEOUT: 'TIMEOUT',
  VIR_ERR_OPERATION_ABORTED: 'CANCELLED',
  VIR_ERR_NO_CONNECT: 'UNAVAILABLE',
  VIR_ERR_SYSTEM_ERROR: 'LIBVIRT',
  VIR_ERR_RPC: 'UNAVAILABLE',
  VIR_ERR_AGENT_UNRESPONSIVE: 'TIMEOUT',
};

export function libvirtBlock(e: LibvirtError): LibvirtErrorBlock {
  return { code: e.code, domain: e.domain, name: e.codeName };
}

/** Any thrown value -> the error part of a reply. */
export function toWireError(e: unknown): WireError {
  if (e instanceof CommandError) {
    return {
      code: e.code,
      message: e.message,
      ...(e.libvirt && { libvirt: e.libvirt }),
      ...(e.details !== undefined && { details: e.details }),
    };
  }
  if (e instanceof LibvirtError) {
    return { code: LIBVIRT_MAP[e.codeName] ?? 'LIBVIRT', message: e.message, libvirt: libvirtBlock(e) };
  }
  if (e instanceof NotConnectedError) return { code: 'UNAVAILABLE', message: e.message };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}
