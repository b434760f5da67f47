#!/usr/bin/env node
// virtbus-agent: the daemon entry. Exit codes: 0 clean stop, 1 bad
// configuration, 2 could not start, 3 crashed while running, 130 second
// signal while stopping.
import { Agent } from '../src/agent/agent';
import { ConfigError, USAGE, endpointsOf, loadConfig } from '../src/agent/config';
import { createTransport } from '../src/agent/transport-factory';
import { PortTakenError } from '../src/bus/embedded-broker';
import { createLogger, type LogFormat } from '../src/log';
import { codecByName } from '../src/codec/codec';
import { authenticityOf, reloadTrustedKeys, type AuthenticitySetup } from '../src/agent/authenticity-of';
import { mkdirSync } from 'node:fs';
import { certificateNote } from '../src/agent/certificate';
import { describeEndpoint } from '../src/endpoint';
import { join } from 'node:path';
import { releaseStartupMemory } from '../src/ops/memory';
import { MetricsListenError, startOperations, type Operations } from '../src/agent/operations';

async function main(): Promise<number> {
  let cfg: ReturnType<typeof loadConfig>;
  try {
    cfg = loadConfig(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`virtbus-agent: ${e.message}\n\n${USAGE}\n`);
      return 1;
    }
    throw e;
  }
  if ((cfg as { help?: boolean }).help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let auth: AuthenticitySetup;
  try {
    auth = authenticityOf(cfg);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`virtbus-agent: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const log = createLogger(cfg.logLevel, { node: cfg.nodeId }, cfg.logFormat as LogFormat);
  for (const note of auth.notes) log.info(note);
  // the connection settings, read once for every client
  const endpoints = endpointsOf(cfg);
  let bus;
  try {
    bus = await createTransport(cfg, endpoints.bus);
  } catch (e) {
    log.fatal({ err: e }, 'cannot set up the bus');
    process.stderr.write(`virtbus-agent: ${(e as Error).message}\n`);
    return e instanceof PortTakenError ? 1 : 2;
  }
  const { transport, embedded, endpoint } = bus;
  if (cfg.tlsInsecure) log.warn('--tls-insecure: server certificates are not verified; never use this in production');
  const checkCertificate = () => {
    if (!cfg.tlsCert) return;
    try {
      const n = certificateNote(cfg.tlsCert);
      log[n.level]({ certificate: { subject: n.subject, validTo: n.validTo, daysLeft: n.daysLeft } }, n.msg);
    } catch (err) {
      log.error({ err }, `TLS client certificate ${cfg.tlsCert} cannot be read`);
    }
  };
  checkCertificate();
  setInterval(checkCertificate, 12 * 3600 * 1000).unref();
  // Rotation without restart: the TLS files are read at every connect; SIGHUP reconnects now.
  process.on('SIGHUP', () => {
    const renewed = transport.renew();
    log.info({ renewed }, 'SIGHUP: reconnecting to the bus with the TLS files as they are now');
    checkCertificate();
    try {
      const n = reloadTrustedKeys(cfg, auth.authenticity);
      if (n !== undefined) log.info({ keys: n }, `SIGHUP: trusted keys read again from ${cfg.trustedKeys}`);
    } catch (err) {
      log.error({ err: String(err) }, 'SIGHUP: the trusted keys file is not usable; the keys in use stay');
    }
  });
  const saveDir = cfg.saveDir || join(cfg.stateDir, 'save');
  mkdirSync(saveDir, { recursive: true });
  const agent = new Agent({
    advertiseMigrateUri: cfg.advertiseMigrateUri || undefined,
    jobs: {
      backend: cfg.redis
        ? { type: 'redis', node: cfg.nodeId, redis: endpoints.redis }
        : { type: 'local', stateDir: join(cfg.stateDir, cfg.nodeId) },
      saveDir,
      progressIntervalMs: cfg.jobProgressMs,
    },
    nodeId: cfg.nodeId,
    libvirtUri: cfg.libvirtUri,
    readOnly: cfg.readOnly,
    advertiseUri: cfg.advertiseUri,
    transport,
    busDescription: describeEndpoint(endpoint),
    log,
    codec: codecByName(cfg.encoding),
    heartbeatS: cfg.heartbeatS,
    maxMessageBytes: cfg.maxMessageBytes,
    maxOutgoingBytes: cfg.maxOutgoingBytes,
    drainMs: cfg.drainS * 1000,
    statsIntervalMs: cfg.statsInterval * 1000,
    ...(auth.authenticity && { authenticity: auth.authenticity }),
    dispatcher: {
      timeoutMs: cfg.commandTimeoutS * 1000,
      maxConcurrent: cfg.maxConcurrent,
      idempotency: { windowMs: auth.idempotencyWindowS * 1000 },
    },
  });

  let ops!: Operations;
  try {
    ops = await startOperations(cfg, agent, transport, log, auth.authenticity);
  } catch (e) {
    if (!(e instanceof MetricsListenError)) throw e;
    log.fatal(e.message);
    process.stderr.write(`virtbus-agent: ${e.message}\n`);
    await embedded?.close();
    return 1;
  }

  let signals = 0;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log.warn({ sig }, 'second signal: exiting now');
        process.exit(130);
      }
      log.info({ sig }, 'signal: shutting down');
      // The agent's close is bounded by --drain; this is the backstop should anything still hang.
      setTimeout(
        () => {
          log.error({ boundS: cfg.drainS }, 'shutdown overran its bound: exiting now');
          process.exit(3);
        },
        cfg.drainS * 1000 + 3000,
      ).unref();
      ops.stopping();
      agent
        .close()
        .then(() => ops.close())
        .then(() => embedded?.close())
        .then(
          () => resolve(0),
          () => resolve(3),
        );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    process.exit(3);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    process.exit(3);
  });

  try {
    await agent.start();
  } catch (err) {
    log.fatal({ err }, 'could not start');
    ops.stopping();
    await agent.close();
    await ops.close();
    await embedded?.close();
    return 2;
  }
  // What start-up used, back to the system once (src/ops/memory.ts): it
  // would otherwise stay resident for the agent's life
  const released = releaseStartupMemory();
  log.debug(released, 'start-up memory released');
  if (embedded) {
    process.stderr.write(`
virtbus agent '${cfg.nodeId}' is running on the embedded default:
  libvirt ${cfg.libvirtUri} (in-process test driver) and an MQTT 3.1.1 broker at ${embedded.url}
In another terminal:
  npm run -s virtbus -- --node ${cfg.nodeId} domain.list
  npm run -s virtbus -- --node ${cfg.nodeId} domain.suspend domain=test
  npm run -s virtbus -- --node ${cfg.nodeId} watch
or with any MQTT client: publish commands to virtbus/v1/${cfg.nodeId}/cmd, events are on virtbus/v1/${cfg.nodeId}/#.
Stop with Ctrl-C.
`);
  }
  return stopped;
}

main().then(
  (code) => {
    // Let pino flush stdout before leaving.
    setImmediate(() => process.exit(code));
  },
  (err) => {
    process.stderr.write(`virtbus-agent: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(3);
  },
);
