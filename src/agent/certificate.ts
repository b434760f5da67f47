// The client certificate's validity, for the log: at start, on SIGHUP and
// twice a day — a warning from 14 days before it expires, an error once it
// has (the broker will refuse the next connection).
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';

export const WARN_DAYS = 14;
const DAY_MS = 24 * 3600 * 1000;

export interface CertificateNote {
  level: 'info' | 'warn' | 'error';
  msg: string;
  subject: string;
  validTo: string;
  daysLeft: number;
}

export function certificateNote(file: string, now = Date.now()): CertificateNote {
  const cert = new X509Certificate(readFileSync(file));
  const validTo = new Date(cert.validTo);
  const daysLeft = Math.floor((validTo.getTime() - now) / DAY_MS);
  const subject = cert.subject.replace(/\n/g, ', ');
  const base = { subject, validTo: validTo.toISOString(), daysLeft };
  if (validTo.getTime() <= now)
    return { ...base, level: 'error', msg: `TLS client certificate ${file} expired on ${base.validTo}` };
  if (daysLeft < WARN_DAYS)
    return {
      ...base,
      level: 'warn',
      msg: `TLS client certificate ${file} expires in ${daysLeft} day(s), on ${base.validTo}: replace the file and send SIGHUP`,
    };
  return { ...base, level: 'info', msg: `TLS client certificate ${file} valid until ${base.validTo}` };
}
