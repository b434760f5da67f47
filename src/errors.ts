// Any thrown value as the error part of a reply: libvirt's errors mapped onto
// the contract's codes (src/contract/errors.ts, re-exported here).
import { LibvirtError } from './libvirt/error';
import { NotConnectedError } from './libvirt/reconnecting';
import { CommandError, type ErrorCode, type LibvirtErrorBlock, type WireError } from './contract/errors';

export { ERROR_CODES, CommandError } from './contract/errors';
export type { ErrorCode, LibvirtErrorBlock, WireError } from './contract/errors';

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
