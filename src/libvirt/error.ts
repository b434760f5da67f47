import { enums } from './gen/constants.gen';

const codeNames = invert(enums.virErrorNumber);
const domainNames = invert(enums.virErrorDomain);

function invert(o: Record<string, number>): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(o)) if (!m.has(v)) m.set(v, k);
  return m;
}

/**
 * An error raised by libvirt. The addon builds every libvirt failure through
 * this class (it is handed to the addon at load), so there is one shape:
 * numeric code/domain/level as libvirt reports them, plus symbolic names.
 */
export class LibvirtError extends Error {
  /** virErrorNumber, e.g. 42 */
  readonly code: number;
  /** virErrorDomain, e.g. 10 (VIR_FROM_QEMU) */
  readonly domain: number;
  /** virErrorLevel: 1 warning, 2 error */
  readonly level: number;
  /** symbolic code, e.g. VIR_ERR_NO_DOMAIN */
  readonly codeName: string;
  /** symbolic domain, e.g. VIR_FROM_QEMU */
  readonly domainName: string;

  constructor(message: string, code: number, domain: number, level: number) {
    super(message);
    this.name = 'LibvirtError';
    this.code = code;
    this.domain = domain;
    this.level = level;
    this.codeName = codeNames.get(code) ?? `VIR_ERR_${code}`;
    this.domainName = domainNames.get(domain) ?? `VIR_FROM_${domain}`;
  }

  /** The `libvirt` block of the wire contract's error replies. */
  toJSON(): { code: number; domain: number; name: string; message: string } {
    return { code: this.code, domain: this.domain, name: this.codeName, message: this.message };
  }
}

export function isLibvirtError(e: unknown, codeName?: keyof typeof enums.virErrorNumber): e is LibvirtError {
  return e instanceof LibvirtError && (codeName === undefined || e.codeName === codeName);
}
