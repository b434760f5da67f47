// Migration options -> virDomainMigrateToURI3 flags and typed parameters.
import type { NativeTypedParam } from './binding';
import { enums, strings } from './gen/constants.gen';

const T = enums.virTypedParameterType;
const M = enums.virDomainMigrateFlags;

export interface MigrateOptions {
  /** destination libvirt URI, e.g. qemu+tcp://node2/system (peer-to-peer) */
  destinationUri: string;
  /** hypervisor data channel, e.g. tcp://10.0.0.2 (default: libvirt picks) */
  migrateUri?: string;
  /** default true */
  live?: boolean;
  /** default true: the source daemon drives the migration */
  peerToPeer?: boolean;
  persistent?: boolean;
  undefineSource?: boolean;
  /** MiB/s */
  bandwidthMiBs?: number;
  autoConverge?: boolean;
  postCopy?: boolean;
  compressed?: boolean;
  tunnelled?: boolean;
  destinationName?: string;
  destinationXml?: string;
  /** abort if a disk I/O error happens (default true) */
  abortOnError?: boolean;
  /** more typed parameters by libvirt name, with their types */
  extraParams?: NativeTypedParam[];
}

export function migrateFlags(o: MigrateOptions): number {
  return (
    (o.live !== false ? M.VIR_MIGRATE_LIVE : 0) |
    (o.peerToPeer !== false ? M.VIR_MIGRATE_PEER2PEER : 0) |
    (o.tunnelled ? M.VIR_MIGRATE_TUNNELLED : 0) |
    (o.persistent ? M.VIR_MIGRATE_PERSIST_DEST : 0) |
    (o.undefineSource ? M.VIR_MIGRATE_UNDEFINE_SOURCE : 0) |
    (o.autoConverge ? M.VIR_MIGRATE_AUTO_CONVERGE : 0) |
    (o.postCopy ? M.VIR_MIGRATE_POSTCOPY : 0) |
    (o.compressed ? M.VIR_MIGRATE_COMPRESSED : 0) |
    (o.abortOnError !== false ? M.VIR_MIGRATE_ABORT_ON_ERROR : 0)
  );
}

export function migrateParams(o: MigrateOptions): NativeTypedParam[] {
  const p: NativeTypedParam[] = [];
  if (o.migrateUri)
    p.push({ name: strings.VIR_MIGRATE_PARAM_URI, type: T.VIR_TYPED_PARAM_STRING, value: o.migrateUri });
  if (o.bandwidthMiBs !== undefined)
    p.push({ name: strings.VIR_MIGRATE_PARAM_BANDWIDTH, type: T.VIR_TYPED_PARAM_ULLONG, value: o.bandwidthMiBs });
  if (o.destinationName)
    p.push({ name: strings.VIR_MIGRATE_PARAM_DEST_NAME, type: T.VIR_TYPED_PARAM_STRING, value: o.destinationName });
  if (o.destinationXml)
    p.push({ name: strings.VIR_MIGRATE_PARAM_DEST_XML, type: T.VIR_TYPED_PARAM_STRING, value: o.destinationXml });
  return p.concat(o.extraParams ?? []);
}
