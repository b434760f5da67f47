// `npm run gen`: what is generated from the contract definitions in
// src/contract/ — contracts/ (JSON Schemas, AsyncAPI, error catalogue) and
// proto/virtbus/v1/ with the protobufjs descriptor the codec loads, and the
// agent's validators and command catalogue (src/contract/gen/); tests
// fail when a checked-in copy is stale. `npm run gen -- examples` re-records
// the golden examples on libvirt's test driver (not by default: libvirt
// picks ids and times, so every recording differs a little; the examples
// test validates the checked-in ones). `npm run gen -- contracts|proto|runtime`
// runs one step. Not part of the runtime: compiled apart
// (tsconfig.tools.json, into dist-tools/) and never shipped in dist/.
import { join } from 'node:path';
import { repoRoot } from '../repo-root';
import { writeContracts } from './contracts';
import { writeExamples } from './examples-record';
import { writeProto } from './proto-gen';
import { writeRuntime } from './runtime-gen';

const ROOT = repoRoot();
const STEPS = ['contracts', 'proto', 'runtime', 'examples'] as const;

async function main(args: string[]): Promise<void> {
  const steps = args.length ? args : ['contracts', 'proto', 'runtime'];
  for (const s of steps) {
    if (!(STEPS as readonly string[]).includes(s)) throw new Error(`unknown step '${s}': ${STEPS.join(', ')}`);
  }
  // proto before examples: the examples are encoded with the descriptor
  for (const step of STEPS.filter((s) => steps.includes(s))) {
    if (step === 'contracts')
      console.log(`contracts: wrote ${writeContracts(join(ROOT, 'contracts'))} files under contracts/`);
    if (step === 'proto') console.log(`proto: wrote ${writeProto(ROOT).join(', ')}`);
    if (step === 'runtime') console.log(`runtime: wrote ${writeRuntime(ROOT).join(', ')}`);
    if (step === 'examples')
      console.log(
        `examples: wrote ${await writeExamples(join(ROOT, 'contracts', 'examples'))} examples (JSON + protobuf) to contracts/examples/`,
      );
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
