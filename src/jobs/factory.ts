// One place that picks the backend from configuration: BullMQ when Redis is
// configured, else the local file (the embedded default).
import { LocalJobBackend, type LocalJobBackendOptions } from './local/backend';
import { BullJobBackend, type BullJobBackendOptions } from './redis/backend';
import type { JobBackend } from './types';

export type JobBackendConfig =
  ({ type: 'local' } & LocalJobBackendOptions) | ({ type: 'redis' } & BullJobBackendOptions);

export function createJobBackend(cfg: JobBackendConfig): JobBackend {
  if (cfg.type === 'redis') {
    const { type: _t, ...o } = cfg;
    return new BullJobBackend(o);
  }
  const { type: _t, ...o } = cfg;
  return new LocalJobBackend(o);
}
