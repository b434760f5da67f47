// What an operator sees of a running agent besides its logs: the metrics
// registry (the agent's, the guests', the process's), the /metrics,
// /healthz, /readyz listener and systemd's notify protocol (READY=1 once
// ready, WATCHDOG=1 while the event loop turns, STOPPING=1 when stopping). Set up by
// agent/main.ts around the Agent; the Agent itself knows none of it.
import type { Agent } from './agent';
import type { AgentConfig } from './config';
import type { Authenticity } from '../auth/authenticity';
import type { Logger } from '../log';
import type { Transport } from '../bus/transport';
import { SystemdNotifier } from '../ops/sd-notify';
import type { OpsServer } from '../ops/http-server';
import { AGENT_VERSION } from './version';

export interface Operations {
  /** where /metrics, /healthz and /readyz are served (undefined: --metrics-listen none) */
  readonly url?: string;
  /** STOPPING=1 and the listener closed (readyz answers 503 until then) */
  stopping(): void;
  close(): Promise<void>;
}

export class MetricsListenError extends Error {}

export async function startOperations(
  cfg: AgentConfig,
  agent: Agent,
  transport: Transport,
  log: Logger,
  authenticity?: Authenticity,
): Promise<Operations> {
  const notifier = new SystemdNotifier({ onError: (err) => log.warn({ err: err.message }, 'systemd notify failed') });
  let server: OpsServer | undefined;
  let unfollow = () => {};
  if (cfg.metricsListen !== 'none') {
    // the HTTP server, prom-client and the metrics are loaded only when they are served
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded only with a metrics listener */
    const { createRegistry } = require('../metrics/registry') as typeof import('../metrics/registry');
    const { agentMetrics } = require('../metrics/agent-metrics') as typeof import('../metrics/agent-metrics');
    const { guestMetrics } = require('../metrics/guests') as typeof import('../metrics/guests');
    const { startOpsServer } = require('../ops/http-server') as typeof import('../ops/http-server');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const register = createRegistry();
    unfollow = agentMetrics(register, {
      agent,
      transport,
      ...(agent.jobs && { jobs: agent.jobs }),
      ...(authenticity && { authenticity }),
      version: AGENT_VERSION,
    });
    guestMetrics(register, {
      connection: () => (agent.libvirt.connected ? agent.libvirt.connection : undefined),
      timeoutMs: cfg.metricsGuestTimeoutS * 1000,
      onError: (err: unknown) => log.warn({ err: String(err) }, 'guest statistics not collected for this scrape'),
    });
    try {
      server = await startOpsServer({
        listen: cfg.metricsListen,
        metrics: async () => ({ body: await register.metrics(), contentType: register.contentType }),
        readiness: () => ({ ...agent.readiness() }),
        ...(cfg.metricsTlsCert && {
          tls: {
            certFile: cfg.metricsTlsCert,
            keyFile: cfg.metricsTlsKey,
            ...(cfg.metricsTlsCa && { caFile: cfg.metricsTlsCa }),
          },
        }),
        ...(cfg.metricsUser && { basicAuth: { user: cfg.metricsUser, password: cfg.metricsPassword } }),
        onError: (err) => log.error({ err }, 'metrics listener error'),
      });
    } catch (e) {
      unfollow();
      const err = e as NodeJS.ErrnoException;
      throw new MetricsListenError(
        err.code === 'EADDRINUSE'
          ? `metrics listener ${cfg.metricsListen} is in use (another agent?): give --metrics-listen HOST:PORT or none`
          : `metrics listener ${cfg.metricsListen}: ${err.message}`,
      );
    }
    log.info(
      { url: server.url, tls: !!cfg.metricsTlsCert, auth: !!cfg.metricsUser },
      'serving /metrics, /healthz, /readyz',
    );
  }
  const onReadiness = (r: { ready: boolean }) => {
    if (r.ready) notifier.status('ready: consuming commands');
    else notifier.status(`not ready: ${JSON.stringify(r)}`);
  };
  agent.once('ready', () => {
    notifier.ready(`ready: consuming commands from ${transport.kind}`);
    // fed while the event loop turns, ready or not: a lost broker or libvirt
    // is not fixed by a restart, and a fleet restarting together every
    // WatchdogSec would only storm the broker when it comes back
    notifier.startWatchdog(() => !stopped);
    agent.on('readiness', onReadiness);
  });
  let stopped = false;
  const stopping = () => {
    if (stopped) return;
    stopped = true;
    agent.off('readiness', onReadiness);
    notifier.stopping('stopping: draining commands');
    notifier.stop();
  };
  return {
    ...(server && { url: server.url }),
    stopping,
    async close() {
      stopping();
      unfollow();
      await server?.close();
    },
  };
}
