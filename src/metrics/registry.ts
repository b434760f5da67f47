// The agent's Prometheus registry: its own metrics (agent-metrics.ts), the
// guests' (guests.ts) and prom-client's process and Node.js metrics — less
// the three prom-client gauges named like counters
// (nodejs_active_{handles,requests,resources}_total), which `promtool check
// metrics` refuses; their gauges without `_total` stay.
import { Registry, collectDefaultMetrics } from './prom';

const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function createRegistry(): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register });
  for (const name of MISNAMED) register.removeSingleMetric(name);
  return register;
}
