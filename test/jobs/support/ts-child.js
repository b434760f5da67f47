// Runs a TypeScript file as a child process (node ts-child.js FILE.ts …),
// compiling on require with the project's TypeScript: the agent that a
// test kills with SIGKILL must be a real, separate process.
'use strict';
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  module._compile(out.outputText, filename);
};

require(require('node:path').resolve(process.argv[2]));
