// Small XML helpers for the device and volume definitions the agent writes
// itself (callers should not have to write XML for the common case).

export function esc(s: string | number): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;');
}

/** The elements `<tag …>…</tag>` (not nested in themselves) of a libvirt XML document. */
export function elements(xml: string, tag: string): string[] {
  return xml.match(new RegExp(`<${tag}\\b[\\s\\S]*?</${tag}>`, 'g')) ?? [];
}

/** The value of attribute `attr` of the first `<tag …>` inside `xml`. */
export function attr(xml: string, tag: string, name: string): string | undefined {
  const el = xml.match(new RegExp(`<${tag}\\b[^>]*>`));
  return el?.[0].match(new RegExp(`\\b${name}=(['"])(.*?)\\1`))?.[2];
}

export function findDisk(domainXml: string, target: string): string | undefined {
  return elements(domainXml, 'disk').find((d) => attr(d, 'target', 'dev') === target);
}

export function findInterface(domainXml: string, mac: string): string | undefined {
  return elements(domainXml, 'interface').find((i) => attr(i, 'mac', 'address')?.toLowerCase() === mac.toLowerCase());
}

export interface DiskSpec {
  path: string;
  target: string;
  bus: string;
  format: string;
  readonly: boolean;
  /** 'file' or 'block' */
  kind: 'file' | 'block';
}

export function diskXml(d: DiskSpec): string {
  const source = d.kind === 'block' ? `<source dev='${esc(d.path)}'/>` : `<source file='${esc(d.path)}'/>`;
  return (
    `<disk type='${d.kind}' device='disk'><driver name='qemu' type='${esc(d.format)}'/>${source}` +
    `<target dev='${esc(d.target)}' bus='${esc(d.bus)}'/>${d.readonly ? '<readonly/>' : ''}</disk>`
  );
}

export function interfaceXml(o: { network?: string; bridge?: string; mac: string; model: string }): string {
  const source = o.bridge
    ? `<source bridge='${esc(o.bridge)}'/>`
    : `<source network='${esc(o.network ?? 'default')}'/>`;
  return (
    `<interface type='${o.bridge ? 'bridge' : 'network'}'>${source}<mac address='${esc(o.mac)}'/>` +
    `<model type='${esc(o.model)}'/></interface>`
  );
}

export function volumeXml(o: {
  name: string;
  capacityBytes: number;
  allocationBytes?: number;
  format?: string;
}): string {
  return (
    `<volume><name>${esc(o.name)}</name><capacity unit='bytes'>${o.capacityBytes}</capacity>` +
    (o.allocationBytes !== undefined ? `<allocation unit='bytes'>${o.allocationBytes}</allocation>` : '') +
    (o.format ? `<target><format type='${esc(o.format)}'/></target>` : '') +
    '</volume>'
  );
}

/** A locally administered MAC in QEMU's 52:54:00 range. */
export function randomMac(): string {
  const b = Array.from({ length: 3 }, () =>
    Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0'),
  );
  return `52:54:00:${b.join(':')}`;
}
