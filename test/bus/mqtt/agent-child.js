// An agent-like process for what only a process shows (a SIGKILL and the
// broker's Last Will): the real MqttTransport from src/, loaded through
// TypeScript's transpiler (the sources are written for isolatedModules, so
// file-by-file transpiling is exact), so it never tests a stale dist/.
//
// usage: node agent-child.js '<MqttTransportOptions as JSON>'
// stdout: "ready" once started; SIGTERM closes cleanly and exits 0.
'use strict';
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};

const { MqttTransport } = require('../../../src/bus/mqtt/transport.ts');

const transport = new MqttTransport(JSON.parse(process.argv[2]));
transport.on('warning', (msg, detail) => process.stderr.write(`warning: ${msg} ${detail ?? ''}\n`));
transport.on('connect-failed', (err) => process.stderr.write(`connect failed: ${err && err.message}\n`));
transport.start({ beforeConsume: async () => undefined, onDelivery: (d) => d.ack() }).then(
  () => process.stdout.write('ready\n'),
  (err) => {
    process.stderr.write(`start failed: ${err.stack}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => {
  void transport.close().then(() => process.exit(0));
});
