// Domain and snapshot calls: virDomain*, virDomainSnapshot*.
#include "common.h"

#include <cstdlib>
#include <stdexcept>

namespace vb {

using D = virDomainPtr;
using S = virDomainSnapshotPtr;

static Value Identity(D d) {
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  virDomainGetUUIDString(d, uuid);
  unsigned int id = virDomainGetID(d);
  Value o = Value::Object();
  o.Set("name", Value::StringOrNull(virDomainGetName(d)));
  o.Set("uuid", Value::String(uuid));
  // (a bare -1 here would take the unsigned type of id: 4294967295)
  o.Set("id", Value::Number(id == static_cast<unsigned int>(-1) ? -1.0 : static_cast<double>(id)));
  return o;
}

// Name, UUID and id are cached in the handle (no RPC), so this is synchronous.
static Napi::Value GetIdentity(const Napi::CallbackInfo& info) {
  auto d = ArgHandle<D>(info, 0);
  Value v = Identity(d.get());
  return ToJS(info.Env(), v);
}

static Napi::Value LookupByName(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* s, unsigned) { return NewHandle(virDomainLookupByName(c, s)); });
}
static Napi::Value LookupByUUIDString(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* s, unsigned) { return NewHandle(virDomainLookupByUUIDString(c, s)); });
}
static Napi::Value LookupByID(const Napi::CallbackInfo& info) {
  auto c = ArgConnection(info, 0);
  int id = static_cast<int>(ArgNumber(info, 1));
  return Run(info.Env(), [c, id]() -> Value { return NewHandle(virDomainLookupByID(c.get(), id)); });
}
static Napi::Value DefineXML(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* x, unsigned f) { return NewHandle(virDomainDefineXMLFlags(c, x, f)); });
}
static Napi::Value CreateXML(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* x, unsigned f) { return NewHandle(virDomainCreateXML(c, x, f)); });
}

#define FLAGS_STATUS(NAME, FN) \
  static Napi::Value NAME(const Napi::CallbackInfo& info) { return CallFlags<D>(info, [](D d, unsigned f) { return Status(FN(d, f)); }); }
#define PLAIN_STATUS(NAME, FN) \
  static Napi::Value NAME(const Napi::CallbackInfo& info) { return Call0<D>(info, [](D d) { return Status(FN(d)); }); }
#define PLAIN_BOOL(NAME, FN) \
  static Napi::Value NAME(const Napi::CallbackInfo& info) { return Call0<D>(info, [](D d) { return Boolean(FN(d)); }); }
#define STR_FLAGS_STATUS(NAME, FN) \
  static Napi::Value NAME(const Napi::CallbackInfo& info) { return CallStrFlags<D>(info, [](D d, const char* s, unsigned f) { return Status(FN(d, s, f)); }); }

FLAGS_STATUS(Undefine, virDomainUndefineFlags)
FLAGS_STATUS(Create, virDomainCreateWithFlags)
FLAGS_STATUS(Shutdown, virDomainShutdownFlags)
FLAGS_STATUS(Reboot, virDomainReboot)
FLAGS_STATUS(Reset, virDomainReset)
FLAGS_STATUS(Destroy, virDomainDestroyFlags)
FLAGS_STATUS(ManagedSave, virDomainManagedSave)
FLAGS_STATUS(ManagedSaveRemove, virDomainManagedSaveRemove)
FLAGS_STATUS(AbortJob, virDomainAbortJobFlags)
FLAGS_STATUS(MigrateStartPostCopy, virDomainMigrateStartPostCopy)
PLAIN_STATUS(Suspend, virDomainSuspend)
PLAIN_STATUS(Resume, virDomainResume)
PLAIN_BOOL(IsActive, virDomainIsActive)
PLAIN_BOOL(IsPersistent, virDomainIsPersistent)
STR_FLAGS_STATUS(AttachDevice, virDomainAttachDeviceFlags)
STR_FLAGS_STATUS(DetachDevice, virDomainDetachDeviceFlags)
STR_FLAGS_STATUS(UpdateDevice, virDomainUpdateDeviceFlags)
STR_FLAGS_STATUS(DetachDeviceAlias, virDomainDetachDeviceAlias)

static Napi::Value HasManagedSaveImage(const Napi::CallbackInfo& info) {
  return CallFlags<D>(info, [](D d, unsigned f) { return Boolean(virDomainHasManagedSaveImage(d, f)); });
}
static Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
  return CallFlags<D>(info, [](D d, unsigned f) { return TakeString(virDomainGetXMLDesc(d, f)); });
}
static Napi::Value GetInfo(const Napi::CallbackInfo& info) {
  return Call0<D>(info, [](D d) {
    virDomainInfo i;
    Check(virDomainGetInfo(d, &i));
    Value o = Value::Object();
    o.Set("state", Value::Number(i.state));
    o.Set("maxMemoryKiB", Value::Number(static_cast<double>(i.maxMem)));
    o.Set("memoryKiB", Value::Number(static_cast<double>(i.memory)));
    o.Set("vcpus", Value::Number(i.nrVirtCpu));
    o.Set("cpuTimeNs", Value::Number(static_cast<double>(i.cpuTime)));
    return o;
  });
}
static Napi::Value GetState(const Napi::CallbackInfo& info) {
  return Call0<D>(info, [](D d) {
    int state = 0, reason = 0;
    Check(virDomainGetState(d, &state, &reason, 0));
    Value o = Value::Object();
    o.Set("state", Value::Number(state)).Set("reason", Value::Number(reason));
    return o;
  });
}
static Napi::Value GetAutostart(const Napi::CallbackInfo& info) {
  return Call0<D>(info, [](D d) {
    int a = 0;
    Check(virDomainGetAutostart(d, &a));
    return Value::Bool(a != 0);
  });
}
static Napi::Value SetAutostart(const Napi::CallbackInfo& info) {
  auto d = ArgHandle<D>(info, 0);
  int on = info[1].ToBoolean().Value() ? 1 : 0;
  return Run(info.Env(), [d, on]() -> Value { return Status(virDomainSetAutostart(d.get(), on)); });
}
// (dom, number, flags) shapes
static Napi::Value SetVcpus(const Napi::CallbackInfo& info) {
  auto d = ArgHandle<D>(info, 0);
  auto n = static_cast<unsigned int>(ArgNumber(info, 1));
  unsigned int f = ArgFlags(info, 2);
  return Run(info.Env(), [d, n, f]() -> Value { return Status(virDomainSetVcpusFlags(d.get(), n, f)); });
}
static Napi::Value SetMemory(const Napi::CallbackInfo& info) {
  auto d = ArgHandle<D>(info, 0);
  auto kib = static_cast<unsigned long>(ArgNumber(info, 1));
  unsigned int f = ArgFlags(info, 2);
  return Run(info.Env(), [d, kib, f]() -> Value { return Status(virDomainSetMemoryFlags(d.get(), kib, f)); });
}
static Napi::Value MigrateSetMaxDowntime(const Napi::CallbackInfo& info) {
  auto d = ArgHandle<D>(info, 0);
  auto ms = static_cast<unsigned long long>(ArgNumber(info, 1));
  return Run(info.Env(), [d, ms]() -> Value { return Status(virDomainMigrateSetMaxDowntime(d.get(), ms, 0)); });
}
static Napi::Value MigrateGetMaxDowntime(const Napi::CallbackInfo& info) {
  return CallFlags<D>(info, [](D d, unsigned f) {
    unsigned long long ms = 0;
    Check(virDomainMigrateGetMaxDowntime(d, &ms, f));
    return Value::Number(static_cast<double>(ms));
  });
}
static Napi::Value MigrateSetMaxSpeed(const Napi::CallbackInfo& info) {
  auto d = ArgHandle<D>(info, 0);
  auto mibs = static_cast<unsigned long>(ArgNumber(info, 1));
  unsigned int f = ArgFlags(info, 2);
  return Run(info.Env(), [d, mibs, f]() -> Value { return Status(virDomainMigrateSetMaxSpeed(d.get(), mibs, f)); });
}

// domainSave(dom, path, xml | null, flags); domainRestore(conn, path, xml | null, flags)
static Napi::Value Save(const Napi::CallbackInfo& info) {
  auto d = ArgHandle<D>(info, 0);
  std::string path = ArgString(info, 1), xml;
  bool hasXml = ArgOptString(info, 2, &xml);
  unsigned int f = ArgFlags(info, 3);
  return Run(info.Env(), [=]() -> Value { return Status(virDomainSaveFlags(d.get(), path.c_str(), hasXml ? xml.c_str() : nullptr, f)); });
}
static Napi::Value Restore(const Napi::CallbackInfo& info) {
  auto c = ArgConnection(info, 0);
  std::string path = ArgString(info, 1), xml;
  bool hasXml = ArgOptString(info, 2, &xml);
  unsigned int f = ArgFlags(info, 3);
  return Run(info.Env(), [=]() -> Value { return Status(virDomainRestoreFlags(c.get(), path.c_str(), hasXml ? xml.c_str() : nullptr, f)); });
}

// domainMigrateToURI3(dom, dconnuri | null, params, flags). Peer-to-peer
// when flags has VIR_MIGRATE_PEER2PEER; blocks until the migration ends.
static Napi::Value MigrateToURI3(const Napi::CallbackInfo& info) {
  auto d = ArgHandle<D>(info, 0);
  std::string uri;
  bool hasUri = ArgOptString(info, 1, &uri);
  auto params = TypedParamsFromJS(info[2]);
  unsigned int f = ArgFlags(info, 3);
  return Run(info.Env(), [=]() -> Value {
    virTypedParameterPtr p = nullptr;
    int n = 0;
    if (!TypedParamsBuild(params, &p, &n)) Fail("invalid migration parameters");
    int rc = virDomainMigrateToURI3(d.get(), hasUri ? uri.c_str() : nullptr, p, n, f);
    LibvirtFailure failure;
    if (rc < 0) failure = CaptureLastError("migration failed");
    virTypedParamsFree(p, n);
    if (rc < 0) throw failure;
    return Value::Null();
  });
}

static Napi::Value GetJobStats(const Napi::CallbackInfo& info) {
  return CallFlags<D>(info, [](D d, unsigned f) {
    int type = 0, n = 0;
    virTypedParameterPtr p = nullptr;
    Check(virDomainGetJobStats(d, &type, &p, &n, f));
    Value o = Value::Object();
    o.Set("type", Value::Number(type));
    o.Set("params", TypedParamsToValue(p, n));
    virTypedParamsFree(p, n);
    return o;
  });
}

// domainListGetStats([dom…], stats, flags) -> [{ domain, params }]
static Napi::Value ListGetStats(const Napi::CallbackInfo& info) {
  if (!info[0].IsArray()) throw Napi::TypeError::New(info.Env(), "argument 0 must be an array of Domain handles");
  auto arr = info[0].As<Napi::Array>();
  std::vector<Held<D>> doms;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    doms.push_back(Hold(static_cast<D>(UnwrapValue(e, HandleKind::Domain, "domain " + std::to_string(i)))));
  }
  unsigned int stats = ArgFlags(info, 1), f = ArgFlags(info, 2);
  return Run(info.Env(), [doms, stats, f]() -> Value {
    std::vector<D> raw;
    for (auto& d : doms) raw.push_back(d.get());
    raw.push_back(nullptr);
    virDomainStatsRecordPtr* recs = nullptr;
    int n = virDomainListGetStats(raw.data(), stats, &recs, f);
    if (n < 0) Fail();
    Value a = Value::Array();
    for (int i = 0; i < n; i++) {
      Value r = Value::Object();
      r.Set("domain", Identity(recs[i]->dom));
      r.Set("params", TypedParamsToValue(recs[i]->params, recs[i]->nparams));
      a.Push(std::move(r));
    }
    virDomainStatsRecordListFree(recs);
    return a;
  });
}

// ---- Snapshots ----------------------------------------------------------------------

static Napi::Value SnapshotCreateXML(const Napi::CallbackInfo& info) {
  return CallStrFlags<D>(info, [](D d, const char* x, unsigned f) { return NewHandle(virDomainSnapshotCreateXML(d, x, f)); });
}
static Napi::Value SnapshotLookupByName(const Napi::CallbackInfo& info) {
  return CallStrFlags<D>(info, [](D d, const char* n, unsigned f) { return NewHandle(virDomainSnapshotLookupByName(d, n, f)); });
}
static Napi::Value ListAllSnapshots(const Napi::CallbackInfo& info) {
  return CallFlags<D>(info, [](D d, unsigned f) {
    S* list = nullptr;
    int n = virDomainListAllSnapshots(d, &list, f);
    if (n < 0) Fail();
    Value a = Value::Array();
    for (int i = 0; i < n; i++) a.Push(Value::Handle(HandleKind::Snapshot, list[i]));
    free(list);
    return a;
  });
}
static Napi::Value SnapshotGetName(const Napi::CallbackInfo& info) {
  auto s = ArgHandle<S>(info, 0);
  const char* n = virDomainSnapshotGetName(s.get());
  return n ? Napi::String::New(info.Env(), n) : info.Env().Null();
}
static Napi::Value SnapshotGetXMLDesc(const Napi::CallbackInfo& info) {
  return CallFlags<S>(info, [](S s, unsigned f) { return TakeString(virDomainSnapshotGetXMLDesc(s, f)); });
}
static Napi::Value RevertToSnapshot(const Napi::CallbackInfo& info) {
  return CallFlags<S>(info, [](S s, unsigned f) { return Status(virDomainRevertToSnapshot(s, f)); });
}
static Napi::Value SnapshotDelete(const Napi::CallbackInfo& info) {
  return CallFlags<S>(info, [](S s, unsigned f) { return Status(virDomainSnapshotDelete(s, f)); });
}

// ---- Several reads of one domain in one hop to the pool ----------------------
// No policy here: the same libvirt calls the facade would make one by one,
// made back to back on the worker so a command costs one thread hop, not six.

// Looks a domain up as the facade does: by UUID first when asked (a name
// that looks like a UUID is tried as a name next), else by name.
static D LookupRef(virConnectPtr c, const std::string& ref, bool uuidFirst) {
  if (uuidFirst) {
    D d = virDomainLookupByUUIDString(c, ref.c_str());
    if (d) return d;
    virErrorPtr e = virGetLastError();
    if (!e || e->code != VIR_ERR_NO_DOMAIN) Fail();
  }
  D d = virDomainLookupByName(c, ref.c_str());
  if (!d) Fail();
  return d;
}

// The reads domain.get makes besides identity, state and persistence: info, autostart.
static void SummaryReads(D d, Value& o) {
  virDomainInfo i;
  Check(virDomainGetInfo(d, &i));
  int autostart = 0;
  bool autostartKnown = virDomainGetAutostart(d, &autostart) == 0;
  o.Set("maxMemoryKiB", Value::Number(static_cast<double>(i.maxMem)));
  o.Set("memoryKiB", Value::Number(static_cast<double>(i.memory)));
  o.Set("vcpus", Value::Number(i.nrVirtCpu));
  o.Set("cpuTimeNs", Value::Number(static_cast<double>(i.cpuTime)));
  o.Set("autostart", autostartKnown ? Value::Bool(autostart != 0) : Value::Null());
}

// (conn, ref, uuidFirst) -> { domain, name, uuid, id, state, reason, maxMemoryKiB,
// memoryKiB, vcpus, cpuTimeNs, persistent, autostart (null: the driver cannot say) }
static Napi::Value LookupSummary(const Napi::CallbackInfo& info) {
  auto c = ArgConnection(info, 0);
  std::string ref = ArgString(info, 1);
  bool uuidFirst = info[2].ToBoolean().Value();
  return Run(info.Env(), [c, ref, uuidFirst]() -> Value {
    // owned until handed to JS as the result's handle
    Held<D> d(LookupRef(c.get(), ref, uuidFirst), [](D p) { virDomainFree(p); });
    int state = 0, reason = 0;
    Check(virDomainGetState(d.get(), &state, &reason, 0));
    int persistent = Check(virDomainIsPersistent(d.get()));
    Value o = Identity(d.get());
    o.Set("state", Value::Number(state)).Set("reason", Value::Number(reason));
    o.Set("persistent", Value::Bool(persistent == 1));
    SummaryReads(d.get(), o);
    HandleTraits<D>::Ref(d.get());  // the result's own reference
    o.Set("domain", Value::Handle(HandleKind::Domain, d.get()));
    return o;
  });
}

// The state record of one domain, as virDomainListGetStats gives it with
// these list filter flags: 1 (the record), 0 (the domain is gone or filtered
// out) or -1 (libvirt's error stays the thread's last error).
using StatsRecords = std::unique_ptr<virDomainStatsRecordPtr, void (*)(virDomainStatsRecordPtr*)>;
static int StateRecord(D d, unsigned int filter, StatsRecords& out) {
  virDomainPtr doms[2] = {d, nullptr};
  virDomainStatsRecordPtr* records = nullptr;
  int n = virDomainListGetStats(doms, VIR_DOMAIN_STATS_STATE, &records, filter);
  out.reset(records);
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

// (dom) -> the same as LookupSummary without `domain`, or null when the
// domain is gone. For a handle kept from an earlier lookup: its name and id
// as the handle holds them may be stale (renamed, started, stopped since),
// so identity and state come from virDomainListGetStats, whose record
// carries the domain as the driver sees it now — one round trip, as the
// lookup it replaces. Asked for persistent domains only, the same call
// tells persistence too (no record: transient, or gone — a second call
// says which); a driver that refuses the filter is asked without it, and
// virDomainIsPersistent.
static Napi::Value SummaryOf(const Napi::CallbackInfo& info) {
  auto d = ArgHandle<D>(info, 0);
  return Run(info.Env(), [d]() -> Value {
    StatsRecords records(nullptr, [](virDomainStatsRecordPtr* r) { virDomainStatsRecordListFree(r); });
    int persistent = StateRecord(d.get(), VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT, records);
    if (persistent < 0) {
      virErrorPtr e = virGetLastError();
      if (!e || (e->code != VIR_ERR_INVALID_ARG && e->code != VIR_ERR_NO_SUPPORT)) Fail();
    }
    if (persistent != 1) {
      int found = StateRecord(d.get(), 0, records);
      if (found < 0) Fail();
      if (found == 0) return Value::Null();  // gone: the driver skips domains it does not have
      if (persistent < 0) persistent = Check(virDomainIsPersistent(d.get()));
    }
    virDomainStatsRecordPtr r = records.get()[0];
    int state = 0, reason = 0;
    virTypedParamsGetInt(r->params, r->nparams, "state.state", &state);
    virTypedParamsGetInt(r->params, r->nparams, "state.reason", &reason);
    Value o = Identity(r->dom);
    o.Set("state", Value::Number(state)).Set("reason", Value::Number(reason));
    o.Set("persistent", Value::Bool(persistent == 1));
    SummaryReads(d.get(), o);
    return o;
  });
}

// (conn, ref, uuidFirst, op, flags) -> { name, uuid, state (null: the domain
// is gone after the operation, e.g. a transient one destroyed) }. The
// lifecycle operations as one hop: lookup, the operation, the state after.
enum class LifecycleOp { Create = 0, Shutdown, Reboot, Destroy, Suspend, Resume };
static int Operate(D d, LifecycleOp op, unsigned f) {
  switch (op) {
    case LifecycleOp::Create: return virDomainCreateWithFlags(d, f);
    case LifecycleOp::Shutdown: return virDomainShutdownFlags(d, f);
    case LifecycleOp::Reboot: return virDomainReboot(d, f);
    case LifecycleOp::Destroy: return virDomainDestroyFlags(d, f);
    case LifecycleOp::Suspend: return virDomainSuspend(d);
    case LifecycleOp::Resume: return virDomainResume(d);
  }
  throw std::runtime_error("unknown lifecycle operation");
}
static Napi::Value LookupOperate(const Napi::CallbackInfo& info) {
  auto c = ArgConnection(info, 0);
  std::string ref = ArgString(info, 1);
  bool uuidFirst = info[2].ToBoolean().Value();
  auto op = static_cast<LifecycleOp>(static_cast<int>(ArgNumber(info, 3)));
  unsigned int flags = ArgFlags(info, 4);
  return Run(info.Env(), [c, ref, uuidFirst, op, flags]() -> Value {
    Held<D> d(LookupRef(c.get(), ref, uuidFirst), [](D p) { virDomainFree(p); });
    Check(Operate(d.get(), op, flags));
    Value o = Value::Object();
    char uuid[VIR_UUID_STRING_BUFLEN] = {0};
    virDomainGetUUIDString(d.get(), uuid);
    o.Set("name", Value::StringOrNull(virDomainGetName(d.get())));
    o.Set("uuid", Value::String(uuid));
    int state = 0, reason = 0;
    if (virDomainGetState(d.get(), &state, &reason, 0) == 0) {
      o.Set("state", Value::Number(state));
    } else {
      virErrorPtr e = virGetLastError();
      if (!e || e->code != VIR_ERR_NO_DOMAIN) Fail();
      o.Set("state", Value::Null());
    }
    return o;
  });
}

// (conn, uuid) -> { domain, state, reason }: the state an event is published with.
static Napi::Value LookupState(const Napi::CallbackInfo& info) {
  auto c = ArgConnection(info, 0);
  std::string uuid = ArgString(info, 1);
  return Run(info.Env(), [c, uuid]() -> Value {
    D raw = virDomainLookupByUUIDString(c.get(), uuid.c_str());
    if (!raw) Fail();
    Held<D> d(raw, [](D p) { virDomainFree(p); });
    int state = 0, reason = 0;
    Check(virDomainGetState(d.get(), &state, &reason, 0));
    Value o = Value::Object();
    o.Set("state", Value::Number(state)).Set("reason", Value::Number(reason));
    HandleTraits<D>::Ref(d.get());  // the result's own reference
    o.Set("domain", Value::Handle(HandleKind::Domain, d.get()));
    return o;
  });
}

// (conn, flags) -> [{ name, uuid, id, state, reason, persistent }]: every
// domain listed with its state and persistence in one hop (domain.list, the
// snapshot), not three hops per domain. A domain gone between the listing
// and its reads (a transient guest that stopped) is left out.
static Napi::Value ListDomainStates(const Napi::CallbackInfo& info) {
  auto c = ArgConnection(info, 0);
  unsigned int flags = ArgFlags(info, 1);
  return Run(info.Env(), [c, flags]() -> Value {
    D* list = nullptr;
    int n = virConnectListAllDomains(c.get(), &list, flags);
    if (n < 0) Fail();
    Value a = Value::Array();
    bool failed = false;
    LibvirtFailure failure;
    for (int i = 0; i < n && !failed; i++) {
      D d = list[i];
      int state = 0, reason = 0, persistent = -1;
      if (virDomainGetState(d, &state, &reason, 0) == 0) persistent = virDomainIsPersistent(d);
      if (persistent >= 0) {
        Value o = Identity(d);
        o.Set("state", Value::Number(state)).Set("reason", Value::Number(reason));
        o.Set("persistent", Value::Bool(persistent == 1));
        a.Push(std::move(o));
        continue;
      }
      virErrorPtr e = virGetLastError();
      if (e && e->code == VIR_ERR_NO_DOMAIN) continue;
      // captured now: freeing the handles below resets this thread's last error
      failure = CaptureLastError("reading a listed domain failed");
      failed = true;
    }
    for (int i = 0; i < n; i++) virDomainFree(list[i]);
    free(list);
    if (failed) throw failure;
    return a;
  });
}

void InitDomain(Napi::Env env, Napi::Object exports) {
  VB_EXPORT(exports, "domainGetIdentity", GetIdentity);
  VB_EXPORT(exports, "domainLookupByName", LookupByName);
  VB_EXPORT(exports, "domainLookupByUUIDString", LookupByUUIDString);
  VB_EXPORT(exports, "domainLookupByID", LookupByID);
  VB_EXPORT(exports, "domainLookupSummary", LookupSummary);
  VB_EXPORT(exports, "domainSummaryOf", SummaryOf);
  VB_EXPORT(exports, "connectListDomainStates", ListDomainStates);
  VB_EXPORT(exports, "domainLookupState", LookupState);
  VB_EXPORT(exports, "domainLookupOperate", LookupOperate);
  VB_EXPORT(exports, "domainDefineXML", DefineXML);
  VB_EXPORT(exports, "domainCreateXML", CreateXML);
  VB_EXPORT(exports, "domainUndefine", Undefine);
  VB_EXPORT(exports, "domainCreate", Create);
  VB_EXPORT(exports, "domainShutdown", Shutdown);
  VB_EXPORT(exports, "domainReboot", Reboot);
  VB_EXPORT(exports, "domainReset", Reset);
  VB_EXPORT(exports, "domainDestroy", Destroy);
  VB_EXPORT(exports, "domainSuspend", Suspend);
  VB_EXPORT(exports, "domainResume", Resume);
  VB_EXPORT(exports, "domainSave", Save);
  VB_EXPORT(exports, "domainRestore", Restore);
  VB_EXPORT(exports, "domainManagedSave", ManagedSave);
  VB_EXPORT(exports, "domainManagedSaveRemove", ManagedSaveRemove);
  VB_EXPORT(exports, "domainHasManagedSaveImage", HasManagedSaveImage);
  VB_EXPORT(exports, "domainGetXMLDesc", GetXMLDesc);
  VB_EXPORT(exports, "domainGetInfo", GetInfo);
  VB_EXPORT(exports, "domainGetState", GetState);
  VB_EXPORT(exports, "domainIsActive", IsActive);
  VB_EXPORT(exports, "domainIsPersistent", IsPersistent);
  VB_EXPORT(exports, "domainGetAutostart", GetAutostart);
  VB_EXPORT(exports, "domainSetAutostart", SetAutostart);
  VB_EXPORT(exports, "domainAttachDevice", AttachDevice);
  VB_EXPORT(exports, "domainDetachDevice", DetachDevice);
  VB_EXPORT(exports, "domainDetachDeviceAlias", DetachDeviceAlias);
  VB_EXPORT(exports, "domainUpdateDevice", UpdateDevice);
  VB_EXPORT(exports, "domainSetVcpus", SetVcpus);
  VB_EXPORT(exports, "domainSetMemory", SetMemory);
  VB_EXPORT(exports, "domainMigrateToURI3", MigrateToURI3);
  VB_EXPORT(exports, "domainMigrateSetMaxDowntime", MigrateSetMaxDowntime);
  VB_EXPORT(exports, "domainMigrateGetMaxDowntime", MigrateGetMaxDowntime);
  VB_EXPORT(exports, "domainMigrateSetMaxSpeed", MigrateSetMaxSpeed);
  VB_EXPORT(exports, "domainMigrateStartPostCopy", MigrateStartPostCopy);
  VB_EXPORT(exports, "domainGetJobStats", GetJobStats);
  VB_EXPORT(exports, "domainAbortJob", AbortJob);
  VB_EXPORT(exports, "domainListGetStats", ListGetStats);
  VB_EXPORT(exports, "domainSnapshotCreateXML", SnapshotCreateXML);
  VB_EXPORT(exports, "domainSnapshotLookupByName", SnapshotLookupByName);
  VB_EXPORT(exports, "domainListAllSnapshots", ListAllSnapshots);
  VB_EXPORT(exports, "snapshotGetName", SnapshotGetName);
  VB_EXPORT(exports, "snapshotGetXMLDesc", SnapshotGetXMLDesc);
  VB_EXPORT(exports, "snapshotRevert", RevertToSnapshot);
  VB_EXPORT(exports, "snapshotDelete", SnapshotDelete);
}

}  // namespace vb
