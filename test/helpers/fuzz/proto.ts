// The CloudEvents protobuf format as the contract's proto/ files define it,
// loaded straight from proto/ (the wire contract), not from the agent's codec:
// the fuzz test builds hostile protobuf commands with it and reads protobuf
// replies.
import { join } from 'node:path';
import protobuf from 'protobufjs';

const PROTO_DIR = join(__dirname, '..', '..', '..', 'proto');

export const pbRoot = new protobuf.Root();
pbRoot.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(PROTO_DIR, target));
pbRoot.loadSync(
  ['virtbus/v1/cloudevents.proto', 'virtbus/v1/commands.proto', 'virtbus/v1/common.proto', 'virtbus/v1/events.proto'],
  { keepCase: true },
);

export const CE = pbRoot.lookupType('io.cloudevents.v1.CloudEvent');
/** every virtbus.v1 message name */
export const PB_TYPES = Object.keys((pbRoot.lookup('virtbus.v1') as protobuf.Namespace).nested ?? {});

export function pbEncode(msg: Record<string, unknown>): Buffer {
  return Buffer.from(CE.encode(CE.fromObject(msg)).finish());
}

type Obj = Record<string, any>;

/** A protobuf CloudEvent as a plain object: core fields, attributes (values unwrapped) and data (proto_data decoded by its type_url, text_data as JSON if it parses). */
export function pbDecode(body: Buffer): { env: Obj; dataKind?: 'proto' | 'text' | 'binary' } {
  const m = CE.toObject(CE.decode(body), { longs: Number, bytes: Buffer, defaults: false }) as Obj;
  const env: Obj = { specversion: m.spec_version, id: m.id, source: m.source, type: m.type };
  const attrs: Obj = {};
  for (const [k, a] of Object.entries((m.attributes ?? {}) as Obj)) {
    const v = Object.values(a as Obj)[0];
    attrs[k] = Buffer.isBuffer(v) ? v.toString('utf8') : v;
  }
  let dataKind: 'proto' | 'text' | 'binary' | undefined;
  if (m.proto_data) {
    dataKind = 'proto';
    const name =
      String(m.proto_data.type_url ?? '')
        .split('/')
        .pop() ?? '';
    try {
      const T = pbRoot.lookupType(name);
      env.data = T.toObject(T.decode(m.proto_data.value ?? Buffer.alloc(0)), { longs: Number, defaults: false });
    } catch {
      env.data = undefined;
    }
  } else if (m.text_data !== undefined) {
    dataKind = 'text';
    try {
      env.data = JSON.parse(m.text_data);
    } catch {
      env.data = m.text_data;
    }
  } else if (m.binary_data !== undefined) {
    dataKind = 'binary';
  }
  return { env: { ...env, attributes: attrs }, dataKind };
}
