// Human output of the virtbus CLI: tables for lists, key/value lines for
// objects. Programs use --json instead.
import type { ReplyData } from '../contract/events';

function cell(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function table(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '(none)';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

export function formatReply(reply: ReplyData): string {
  if (!reply.ok) {
    const e = reply.error;
    return `error ${e.code}: ${e.message}${e.libvirt ? ` (libvirt ${e.libvirt.name})` : ''}`;
  }
  const result = reply.result as Record<string, unknown> | undefined;
  if (!result || typeof result !== 'object') return cell(result);
  const entries = Object.entries(result);
  const list = entries.find(([, v]) => Array.isArray(v));
  if (entries.length === 1 && list) return table(list[1] as Array<Record<string, unknown>>);
  if (entries.length === 1 && typeof entries[0][1] === 'string') return entries[0][1] as string; // e.g. xml
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
}

/**
 * A failed reply as one line: `domain.start: NOT_FOUND: domain 'vm9' not found
 * (libvirt VIR_ERR_NO_DOMAIN)` (the CLI puts `virtbus: ` in front).
 */
export function errorLine(
  command: string,
  error: { code: string; message: string; libvirt?: { name: string } },
): string {
  const message = error.message.replace(/\s*\n\s*/g, ' '); // libvirt's messages may span lines
  return `${command}: ${error.code}: ${message}${error.libvirt ? ` (libvirt ${error.libvirt.name})` : ''}`;
}

// parseData lived here before the CLI took dotted keys and files; it is args.ts's now.
export { parseData } from './args';
