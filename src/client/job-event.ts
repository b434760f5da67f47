// A virtbus.event.job.* event as the SDK's Job handle and the CLI's progress
// read it: which job (the command id), its state and progress report.
import type { CloudEvent } from '../contract/envelope';

export const JOB_EVENT_PREFIX = 'virtbus.event.job.';

export interface JobEvent {
  event: 'started' | 'progress' | 'completed';
  /** the command id */
  id: string;
  /** the command's name without its prefix (domain.migrate) */
  command?: string;
  state?: string;
  progress?: unknown;
  /** when the agent published it (ms since the epoch) */
  at?: number;
}

/** A virtbus.event.job.* event, read; undefined for any other event. */
export function jobEventOf(e: CloudEvent): JobEvent | undefined {
  if (typeof e.type !== 'string' || !e.type.startsWith(JOB_EVENT_PREFIX)) return undefined;
  const event = e.type.slice(JOB_EVENT_PREFIX.length);
  if (event !== 'started' && event !== 'progress' && event !== 'completed') return undefined;
  const d = (e.data ?? {}) as Record<string, unknown>;
  if (typeof d.id !== 'string') return undefined;
  const at = typeof d.at === 'string' ? Date.parse(d.at) : NaN;
  return {
    event,
    id: d.id,
    ...(typeof d.command === 'string' && { command: d.command.replace(/^virtbus\.cmd\./, '') }),
    ...(typeof d.state === 'string' && { state: d.state }),
    ...(d.progress !== undefined && { progress: d.progress }),
    ...(Number.isFinite(at) && { at }),
  };
}
