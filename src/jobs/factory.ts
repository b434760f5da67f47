// One place that picks the backend from configuration: BullMQ when Redis is
// configured, else the local file (the embedded default).
// BullMQ and ioredis are loaded only when Redis is configured: an agent on
// the local file does not carry them (memory, start time).
import { LocalJobBackend, type LocalJobBackendOptions } from './local/backend';
import type { BullJobBackendOptions } from './redis/backend';
import type { JobBackend } from './types';

export type JobBackendConfig =
  ({ type: 'local' } & LocalJobBackendOptions) | ({ type: 'redis' } & BullJobBackendOptions);

export function createJobBackend(cfg: JobBackendConfig): JobBackend {
  if (cfg.type === 'redis') {
    const { type: _t, ...o } = cfg;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when configured
    const { BullJobBackend } = require('./redis/backend') as typeof import('./redis/backend');
    return new BullJobBackend(o);
  }
  const { type: _t, ...o } = cfg;
  return new LocalJobBackend(o);
}
