// The only module that finds and loads the native addon (one binary loader,
// as better-sqlite3's lib/binding.js). Everything else imports `native`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LibvirtError } from './error';

declare const handleBrand: unique symbol;
/** Opaque native handles; the addon checks their type tags. */
export type Handle<K extends string> = { readonly [handleBrand]: K };
export type ConnectionHandle = Handle<'Connection'>;
export type DomainHandle = Handle<'Domain'>;
export type StoragePoolHandle = Handle<'StoragePool'>;
export type StorageVolumeHandle = Handle<'StorageVolume'>;
export type NetworkHandle = Handle<'Network'>;
export type SnapshotHandle = Handle<'Snapshot'>;

export type TypedParams = Record<string, number | string | boolean>;
export interface NativeTypedParam {
  name: string;
  type: number;
  value: number | string | boolean;
}

/** A record as libvirt's event thread saw it; src/libvirt/events.ts types it. */
export interface NativeEventRecord {
  type: string;
  domain?: { name: string; uuid: string; id: number };
  pool?: { name: string; uuid: string };
  network?: { name: string; uuid: string };
  [field: string]: unknown;
}

type P<T> = Promise<T>;
type C = ConnectionHandle;
type D = DomainHandle;
type SP = StoragePoolHandle;
type SV = StorageVolumeHandle;
type N = NetworkHandle;
type S = SnapshotHandle;

export interface NativeDomainSummary {
  domain: DomainHandle;
  name: string;
  uuid: string;
  id: number;
  state: number;
  reason: number;
  maxMemoryKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
  persistent: boolean;
  /** null: the driver cannot say */
  autostart: boolean | null;
}

export interface NativeBinding {
  setErrorClass(ctor: typeof LibvirtError): void;
  setThreadPoolSize(n: number): void;
  getThreadPoolSize(): number;
  /**
   * On: a call made while others are outstanding is queued without waking a
   * worker; flushWakes() wakes them once for all calls queued since. A call
   * on an idle pool wakes a worker at once either way.
   */
  setDeferWakes(on: boolean): void;
  flushWakes(): void;
  getVersion(): number;
  /** glibc's malloc_trim(0): true when freed C-heap pages went back to the system */
  trimHeap(): boolean;
  /** V8's memory-pressure notification, critical then none: a compacting full GC that shrinks the young generation */
  relieveV8Heap(): void;

  connectOpen(
    uri: string | null,
    flags: number,
    onClose: ((r: NativeEventRecord) => void) | undefined,
    keepaliveInterval: number,
    keepaliveCount: number,
  ): P<C>;
  connectClose(c: C): P<null>;
  connectIsAlive(c: C): P<boolean>;
  connectGetHostname(c: C): P<string>;
  connectGetURI(c: C): P<string>;
  connectGetCapabilities(c: C): P<string>;
  connectGetType(c: C): P<string>;
  connectGetLibVersion(c: C): P<number>;
  connectGetVersion(c: C): P<number>;
  nodeGetInfo(c: C): P<{
    model: string;
    memoryKiB: number;
    cpus: number;
    mhz: number;
    nodes: number;
    sockets: number;
    cores: number;
    threads: number;
  }>;
  nodeGetFreeMemory(c: C): P<number>;
  nodeGetCPUStats(c: C): P<Record<string, number>>;
  nodeGetMemoryStats(c: C): P<Record<string, number>>;
  connectListAllDomains(c: C, flags: number): P<D[]>;
  connectListAllStoragePools(c: C, flags: number): P<SP[]>;
  connectListAllNetworks(c: C, flags: number): P<N[]>;
  connectGetAllDomainStats(c: C, stats: number, flags: number): P<Array<{ domain: D; params: TypedParams }>>;
  connectEventsRegister(
    c: C,
    fn: (r: NativeEventRecord) => void,
  ): P<{ registered: string[]; unsupported: Array<{ event: string; message: string; code: number }> }>;
  connectEventsDeregister(c: C): P<null>;

  domainGetIdentity(d: D): { name: string; uuid: string; id: number };
  domainLookupByName(c: C, name: string): P<D>;
  domainLookupByUUIDString(c: C, uuid: string): P<D>;
  domainLookupByID(c: C, id: number): P<D>;
  /** lookup + identity + info + state + persistence + autostart, one hop */
  domainLookupSummary(c: C, ref: string, uuidFirst: boolean): P<NativeDomainSummary>;
  /**
   * the same for a kept handle, identity and state as the driver sees them
   * now (virDomainListGetStats), one hop; null: the domain is gone
   */
  domainSummaryOf(d: D): P<Omit<NativeDomainSummary, 'domain'> | null>;
  /** every domain with its state and persistence, one hop (gone ones left out) */
  connectListDomainStates(
    c: C,
    flags: number,
  ): P<Array<{ name: string; uuid: string; id: number; state: number; reason: number; persistent: boolean }>>;
  /** lookup by UUID + state, one hop */
  domainLookupState(c: C, uuid: string): P<{ domain: D; state: number; reason: number }>;
  /** lookup + a lifecycle operation (0 create … 5 resume) + the state after (null: gone), one hop */
  domainLookupOperate(
    c: C,
    ref: string,
    uuidFirst: boolean,
    op: number,
    flags: number,
  ): P<{ name: string; uuid: string; state: number | null }>;
  domainDefineXML(c: C, xml: string, flags: number): P<D>;
  domainCreateXML(c: C, xml: string, flags: number): P<D>;
  domainUndefine(d: D, flags: number): P<null>;
  domainCreate(d: D, flags: number): P<null>;
  domainShutdown(d: D, flags: number): P<null>;
  domainReboot(d: D, flags: number): P<null>;
  domainReset(d: D, flags: number): P<null>;
  domainDestroy(d: D, flags: number): P<null>;
  domainSuspend(d: D): P<null>;
  domainResume(d: D): P<null>;
  domainSave(d: D, path: string, xml: string | null, flags: number): P<null>;
  domainRestore(c: C, path: string, xml: string | null, flags: number): P<null>;
  domainManagedSave(d: D, flags: number): P<null>;
  domainManagedSaveRemove(d: D, flags: number): P<null>;
  domainHasManagedSaveImage(d: D, flags: number): P<boolean>;
  domainGetXMLDesc(d: D, flags: number): P<string>;
  domainGetInfo(d: D): P<{ state: number; maxMemoryKiB: number; memoryKiB: number; vcpus: number; cpuTimeNs: number }>;
  domainGetState(d: D): P<{ state: number; reason: number }>;
  domainIsActive(d: D): P<boolean>;
  domainIsPersistent(d: D): P<boolean>;
  domainGetAutostart(d: D): P<boolean>;
  domainSetAutostart(d: D, on: boolean): P<null>;
  domainAttachDevice(d: D, xml: string, flags: number): P<null>;
  domainDetachDevice(d: D, xml: string, flags: number): P<null>;
  domainDetachDeviceAlias(d: D, alias: string, flags: number): P<null>;
  domainUpdateDevice(d: D, xml: string, flags: number): P<null>;
  domainSetVcpus(d: D, n: number, flags: number): P<null>;
  domainSetMemory(d: D, kib: number, flags: number): P<null>;
  domainMigrateToURI3(d: D, dconnuri: string | null, params: NativeTypedParam[], flags: number): P<null>;
  domainMigrateSetMaxDowntime(d: D, ms: number): P<null>;
  domainMigrateGetMaxDowntime(d: D, flags: number): P<number>;
  domainMigrateSetMaxSpeed(d: D, mibs: number, flags: number): P<null>;
  domainMigrateStartPostCopy(d: D, flags: number): P<null>;
  domainGetJobStats(d: D, flags: number): P<{ type: number; params: TypedParams }>;
  domainAbortJob(d: D, flags: number): P<null>;
  domainListGetStats(
    ds: D[],
    stats: number,
    flags: number,
  ): P<Array<{ domain: { name: string; uuid: string; id: number }; params: TypedParams }>>;
  domainSnapshotCreateXML(d: D, xml: string, flags: number): P<S>;
  domainSnapshotLookupByName(d: D, name: string, flags: number): P<S>;
  domainListAllSnapshots(d: D, flags: number): P<S[]>;
  snapshotGetName(s: S): string;
  snapshotGetXMLDesc(s: S, flags: number): P<string>;
  snapshotRevert(s: S, flags: number): P<null>;
  snapshotDelete(s: S, flags: number): P<null>;

  storagePoolGetIdentity(p: SP): { name: string; uuid: string };
  storagePoolLookupByName(c: C, name: string): P<SP>;
  storagePoolLookupByUUIDString(c: C, uuid: string): P<SP>;
  storagePoolLookupByVolume(v: SV): P<SP>;
  storagePoolDefineXML(c: C, xml: string, flags: number): P<SP>;
  storagePoolCreateXML(c: C, xml: string, flags: number): P<SP>;
  storagePoolCreate(p: SP, flags: number): P<null>;
  storagePoolBuild(p: SP, flags: number): P<null>;
  storagePoolRefresh(p: SP, flags: number): P<null>;
  storagePoolDelete(p: SP, flags: number): P<null>;
  storagePoolDestroy(p: SP): P<null>;
  storagePoolUndefine(p: SP): P<null>;
  storagePoolIsActive(p: SP): P<boolean>;
  storagePoolIsPersistent(p: SP): P<boolean>;
  storagePoolGetAutostart(p: SP): P<boolean>;
  storagePoolSetAutostart(p: SP, on: boolean): P<null>;
  storagePoolGetInfo(p: SP): P<{ state: number; capacity: number; allocation: number; available: number }>;
  storagePoolGetXMLDesc(p: SP, flags: number): P<string>;
  storagePoolListAllVolumes(p: SP, flags: number): P<SV[]>;
  storageVolGetIdentity(v: SV): { name: string; key: string };
  storageVolLookupByName(p: SP, name: string): P<SV>;
  storageVolLookupByPath(c: C, path: string): P<SV>;
  storageVolLookupByKey(c: C, key: string): P<SV>;
  storageVolCreateXML(p: SP, xml: string, flags: number): P<SV>;
  storageVolCreateXMLFrom(p: SP, xml: string, src: SV, flags: number): P<SV>;
  storageVolDelete(v: SV, flags: number): P<null>;
  storageVolWipe(v: SV, flags: number): P<null>;
  storageVolResize(v: SV, bytes: number, flags: number): P<null>;
  storageVolGetInfo(v: SV): P<{ type: number; capacity: number; allocation: number }>;
  storageVolGetPath(v: SV): P<string>;
  storageVolGetXMLDesc(v: SV, flags: number): P<string>;

  networkGetIdentity(n: N): { name: string; uuid: string };
  networkLookupByName(c: C, name: string): P<N>;
  networkLookupByUUIDString(c: C, uuid: string): P<N>;
  networkDefineXML(c: C, xml: string, flags: number): P<N>;
  networkCreateXML(c: C, xml: string, flags: number): P<N>;
  networkCreate(n: N): P<null>;
  networkDestroy(n: N): P<null>;
  networkUndefine(n: N): P<null>;
  networkIsActive(n: N): P<boolean>;
  networkIsPersistent(n: N): P<boolean>;
  networkGetAutostart(n: N): P<boolean>;
  networkSetAutostart(n: N, on: boolean): P<null>;
  networkGetXMLDesc(n: N, flags: number): P<string>;
  networkGetBridgeName(n: N): P<string>;

  /**
   * Sends one AF_UNIX datagram, synchronously (sd_notify; not libvirt, but Node
   * cannot send unix datagrams). A path starting with '@' is an abstract
   * socket. Throws an Error with Node's system-error fields (code, errno,
   * syscall) when the socket refuses it.
   */
  notifySocketSend(path: string, message: string): void;
}

function load(): NativeBinding {
  const name = 'virtbus_libvirt.node';
  // src/libvirt (ts-jest, ts-node) and dist/src/libvirt (compiled) both work.
  const candidates = [
    process.env.VIRTBUS_NATIVE_BINDING,
    join(__dirname, '..', '..', 'build', 'Release', name),
    join(__dirname, '..', '..', '..', 'build', 'Release', name),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `virtbus: native libvirt addon not built (looked in ${candidates.join(', ')}); ` +
        'install libvirt-dev and run `npm run build:native`',
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when used
  const b = require(found) as NativeBinding;
  b.setErrorClass(LibvirtError);
  b.setDeferWakes(true); // flushed by every call's wrapper (observed)
  return b;
}

/** Told of every asynchronous call into the binding: its function name and time (metrics). */
export type CallObserver = (api: string, seconds: number) => void;
let observer: CallObserver | undefined;

/** Observes the binding's asynchronous calls (one observer; the returned function stops it). */
export function observeLibvirtCalls(fn: CallObserver): () => void {
  observer = fn;
  return () => {
    if (observer === fn) observer = undefined;
  };
}

/**
 * The binding with every function timed while an observer is set, and the
 * pool's wake-ups batched: the calls made until the current JS run ends
 * (this tick, its promise jobs) share one wake-up of a worker, on the next
 * tick. Waking a worker per call was a futex and often a context switch
 * each: a test-driver call takes microseconds, so the worker slept again
 * before the next came (bench: AMQP 64 in flight 0.42-0.49x -> 0.50-0.51x).
 * A call on an idle pool still wakes a worker at once, and the flush runs
 * before the event loop goes on, so no call waits for other callbacks or I/O
 * (waiting for the turn's other callbacks cost the events row ~10 %).
 */
function observed(b: NativeBinding): NativeBinding {
  const out: Record<string, unknown> = {};
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    b.flushWakes();
  };
  for (const [name, f] of Object.entries(b) as Array<[string, unknown]>) {
    if (typeof f !== 'function') {
      out[name] = f;
      continue;
    }
    out[name] = (...args: unknown[]): unknown => {
      if (!flushQueued) {
        flushQueued = true;
        process.nextTick(flush);
      }
      const obs = observer;
      if (!obs) return f.apply(b, args);
      const t0 = performance.now();
      const r: unknown = f.apply(b, args);
      // a thenable, not instanceof Promise: the addon's promises are of the
      // main realm, which is not the caller's under jest's vm contexts
      if (typeof (r as PromiseLike<unknown> | undefined)?.then === 'function') {
        const done = () => obs(name, (performance.now() - t0) / 1000);
        (r as PromiseLike<unknown>).then(done, done);
      }
      return r;
    };
  }
  return out as unknown as NativeBinding;
}

export const native: NativeBinding = observed(load());
