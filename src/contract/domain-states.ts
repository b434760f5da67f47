// The contract's domain state words, libvirt's virDomainState in order
// (VIR_DOMAIN_NOSTATE = 0 …). A module of its own without dependencies: the
// contract's schemas (shapes.ts) and the libvirt facade (libvirt/names.ts)
// both use it, and the facade loads no schema library.
export const DOMAIN_STATES = [
  'nostate',
  'running',
  'blocked',
  'paused',
  'shutdown',
  'shutoff',
  'crashed',
  'pmsuspended',
] as const;
export type DomainStateName = (typeof DOMAIN_STATES)[number];
