// libvirt's event loop and event subscriptions.
//
// The event loop (event_loop.cc, ours rather than libvirt's default) is
// registered at module load, before any connection is opened (libvirt
// requires it), and its thread runs for the life of the process, so that
// keepalives and close callbacks still work right after a connection is
// closed.
//
// Callbacks run on that thread and only enqueue: they copy what the event
// says into a Value and hand it to a thread-safe function. Nothing is
// published, logged or looked up here.
#include "common.h"

#include <atomic>

namespace vb {

struct EventSink {
  Napi::ThreadSafeFunction tsfn;
  std::atomic<int> refs{1};
};

static void CallJs(Napi::Env env, Napi::Function fn, Value* v) {
  std::unique_ptr<Value> owned(v);
  if (env == nullptr) return;
  fn.Call({ToJS(env, *owned)});
}

EventSink* NewSink(Napi::Env env, Napi::Function fn, const char* name) {
  auto* sink = new EventSink();
  sink->tsfn = Napi::ThreadSafeFunction::New(env, fn, name, 0, 1);
  // A subscription alone does not keep the process alive.
  sink->tsfn.Unref(env);
  return sink;
}

void ReleaseSink(EventSink* sink) {
  if (--sink->refs == 0) {
    sink->tsfn.Release();
    delete sink;
  }
}

static void FreeSink(void* opaque) { ReleaseSink(static_cast<EventSink*>(opaque)); }

static void Emit(void* opaque, Value v) {
  auto* sink = static_cast<EventSink*>(opaque);
  auto* p = new Value(std::move(v));
  if (sink->tsfn.NonBlockingCall(p, CallJs) != napi_ok) delete p;
}

// ---- Domain events -------------------------------------------------------------

static Value DomainRef(virDomainPtr dom) {
  Value d = Value::Object();
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  // Name, UUID and id are cached in the handle: no RPC on the event thread.
  d.Set("name", Value::StringOrNull(virDomainGetName(dom)));
  d.Set("uuid", Value::String(virDomainGetUUIDString(dom, uuid) == 0 ? uuid : ""));
  unsigned int id = virDomainGetID(dom);
  d.Set("id", Value::Number(id == static_cast<unsigned int>(-1) ? -1 : id));
  return d;
}

static Value DomainEvent(const char* type, virDomainPtr dom) {
  Value v = Value::Object();
  v.Set("type", Value::String(type));
  v.Set("domain", DomainRef(dom));
  return v;
}

#define STR(s) Value::StringOrNull(s)
#define NUM(n) Value::Number(static_cast<double>(n))

static void OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* o) {
  Value v = DomainEvent("lifecycle", dom);
  v.Set("event", NUM(event)).Set("detail", NUM(detail));
  Emit(o, std::move(v));
}
static void OnReboot(virConnectPtr, virDomainPtr dom, void* o) { Emit(o, DomainEvent("reboot", dom)); }
static void OnRtcChange(virConnectPtr, virDomainPtr dom, long long utcoffset, void* o) {
  Value v = DomainEvent("rtc-change", dom);
  v.Set("utcOffset", NUM(utcoffset));
  Emit(o, std::move(v));
}
static void OnWatchdog(virConnectPtr, virDomainPtr dom, int action, void* o) {
  Value v = DomainEvent("watchdog", dom);
  v.Set("action", NUM(action));
  Emit(o, std::move(v));
}
static void OnIoError(virConnectPtr, virDomainPtr dom, const char* src, const char* alias, int action,
                      const char* reason, void* o) {
  Value v = DomainEvent("io-error", dom);
  v.Set("srcPath", STR(src)).Set("devAlias", STR(alias)).Set("action", NUM(action)).Set("reason", STR(reason));
  Emit(o, std::move(v));
}
static void OnControlError(virConnectPtr, virDomainPtr dom, void* o) { Emit(o, DomainEvent("control-error", dom)); }
static void OnBlockJob(virConnectPtr, virDomainPtr dom, const char* disk, int type, int status, void* o) {
  Value v = DomainEvent("block-job", dom);
  v.Set("disk", STR(disk)).Set("jobType", NUM(type)).Set("status", NUM(status));
  Emit(o, std::move(v));
}
static void OnDiskChange(virConnectPtr, virDomainPtr dom, const char* oldSrc, const char* newSrc, const char* alias,
                         int reason, void* o) {
  Value v = DomainEvent("disk-change", dom);
  v.Set("oldSrcPath", STR(oldSrc)).Set("newSrcPath", STR(newSrc)).Set("devAlias", STR(alias)).Set("reason", NUM(reason));
  Emit(o, std::move(v));
}
static void OnTrayChange(virConnectPtr, virDomainPtr dom, const char* alias, int reason, void* o) {
  Value v = DomainEvent("tray-change", dom);
  v.Set("devAlias", STR(alias)).Set("reason", NUM(reason));
  Emit(o, std::move(v));
}
static void OnPmWakeup(virConnectPtr, virDomainPtr dom, int reason, void* o) {
  Value v = DomainEvent("pm-wakeup", dom);
  v.Set("reason", NUM(reason));
  Emit(o, std::move(v));
}
static void OnPmSuspend(virConnectPtr, virDomainPtr dom, int reason, void* o) {
  Value v = DomainEvent("pm-suspend", dom);
  v.Set("reason", NUM(reason));
  Emit(o, std::move(v));
}
static void OnPmSuspendDisk(virConnectPtr, virDomainPtr dom, int reason, void* o) {
  Value v = DomainEvent("pm-suspend-disk", dom);
  v.Set("reason", NUM(reason));
  Emit(o, std::move(v));
}
static void OnBalloonChange(virConnectPtr, virDomainPtr dom, unsigned long long actual, void* o) {
  Value v = DomainEvent("balloon-change", dom);
  v.Set("actualKiB", NUM(actual));
  Emit(o, std::move(v));
}
static void OnDeviceRemoved(virConnectPtr, virDomainPtr dom, const char* alias, void* o) {
  Value v = DomainEvent("device-removed", dom);
  v.Set("devAlias", STR(alias));
  Emit(o, std::move(v));
}
static void OnDeviceAdded(virConnectPtr, virDomainPtr dom, const char* alias, void* o) {
  Value v = DomainEvent("device-added", dom);
  v.Set("devAlias", STR(alias));
  Emit(o, std::move(v));
}
static void OnDeviceRemovalFailed(virConnectPtr, virDomainPtr dom, const char* alias, void* o) {
  Value v = DomainEvent("device-removal-failed", dom);
  v.Set("devAlias", STR(alias));
  Emit(o, std::move(v));
}
static void OnTunable(virConnectPtr, virDomainPtr dom, virTypedParameterPtr params, int n, void* o) {
  Value v = DomainEvent("tunable", dom);
  v.Set("params", TypedParamsToValue(params, n));
  Emit(o, std::move(v));
}
static void OnAgentLifecycle(virConnectPtr, virDomainPtr dom, int state, int reason, void* o) {
  Value v = DomainEvent("agent-lifecycle", dom);
  v.Set("state", NUM(state)).Set("reason", NUM(reason));
  Emit(o, std::move(v));
}
static void OnMigrationIteration(virConnectPtr, virDomainPtr dom, int iteration, void* o) {
  Value v = DomainEvent("migration-iteration", dom);
  v.Set("iteration", NUM(iteration));
  Emit(o, std::move(v));
}
static void OnJobCompleted(virConnectPtr, virDomainPtr dom, virTypedParameterPtr params, int n, void* o) {
  Value v = DomainEvent("job-completed", dom);
  v.Set("params", TypedParamsToValue(params, n));
  Emit(o, std::move(v));
}
static void OnMetadataChange(virConnectPtr, virDomainPtr dom, int type, const char* nsuri, void* o) {
  Value v = DomainEvent("metadata-change", dom);
  v.Set("metadataType", NUM(type)).Set("nsuri", STR(nsuri));
  Emit(o, std::move(v));
}
static void OnBlockThreshold(virConnectPtr, virDomainPtr dom, const char* dev, const char* path,
                             unsigned long long threshold, unsigned long long excess, void* o) {
  Value v = DomainEvent("block-threshold", dom);
  v.Set("dev", STR(dev)).Set("path", STR(path)).Set("threshold", NUM(threshold)).Set("excess", NUM(excess));
  Emit(o, std::move(v));
}
static void OnMemoryFailure(virConnectPtr, virDomainPtr dom, int recipient, int action, unsigned int flags, void* o) {
  Value v = DomainEvent("memory-failure", dom);
  v.Set("recipient", NUM(recipient)).Set("action", NUM(action)).Set("flags", NUM(flags));
  Emit(o, std::move(v));
}

struct DomainEventSpec {
  int id;
  const char* name;
  virConnectDomainEventGenericCallback cb;
};
#define CB(f) VIR_DOMAIN_EVENT_CALLBACK(f)
static const DomainEventSpec kDomainEvents[] = {
    {VIR_DOMAIN_EVENT_ID_LIFECYCLE, "lifecycle", CB(OnLifecycle)},
    {VIR_DOMAIN_EVENT_ID_REBOOT, "reboot", CB(OnReboot)},
    {VIR_DOMAIN_EVENT_ID_RTC_CHANGE, "rtc-change", CB(OnRtcChange)},
    {VIR_DOMAIN_EVENT_ID_WATCHDOG, "watchdog", CB(OnWatchdog)},
    {VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, "io-error", CB(OnIoError)},
    {VIR_DOMAIN_EVENT_ID_CONTROL_ERROR, "control-error", CB(OnControlError)},
    {VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, "block-job", CB(OnBlockJob)},
    {VIR_DOMAIN_EVENT_ID_DISK_CHANGE, "disk-change", CB(OnDiskChange)},
    {VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, "tray-change", CB(OnTrayChange)},
    {VIR_DOMAIN_EVENT_ID_PMWAKEUP, "pm-wakeup", CB(OnPmWakeup)},
    {VIR_DOMAIN_EVENT_ID_PMSUSPEND, "pm-suspend", CB(OnPmSuspend)},
    {VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK, "pm-suspend-disk", CB(OnPmSuspendDisk)},
    {VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, "balloon-change", CB(OnBalloonChange)},
    {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, "device-removed", CB(OnDeviceRemoved)},
    {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, "device-added", CB(OnDeviceAdded)},
    {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED, "device-removal-failed", CB(OnDeviceRemovalFailed)},
    {VIR_DOMAIN_EVENT_ID_TUNABLE, "tunable", CB(OnTunable)},
    {VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, "agent-lifecycle", CB(OnAgentLifecycle)},
    {VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, "migration-iteration", CB(OnMigrationIteration)},
    {VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, "job-completed", CB(OnJobCompleted)},
    {VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, "metadata-change", CB(OnMetadataChange)},
    {VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD, "block-threshold", CB(OnBlockThreshold)},
    {VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE, "memory-failure", CB(OnMemoryFailure)},
};
#undef CB

// ---- Storage pool and network events ----------------------------------------------

static Value NamedRef(const char* name, const char* uuid) {
  Value r = Value::Object();
  r.Set("name", STR(name)).Set("uuid", STR(uuid));
  return r;
}
static void OnPoolLifecycle(virConnectPtr, virStoragePoolPtr pool, int event, int detail, void* o) {
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  virStoragePoolGetUUIDString(pool, uuid);
  Value v = Value::Object();
  v.Set("type", Value::String("pool-lifecycle")).Set("pool", NamedRef(virStoragePoolGetName(pool), uuid));
  v.Set("event", NUM(event)).Set("detail", NUM(detail));
  Emit(o, std::move(v));
}
static void OnPoolRefresh(virConnectPtr, virStoragePoolPtr pool, void* o) {
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  virStoragePoolGetUUIDString(pool, uuid);
  Value v = Value::Object();
  v.Set("type", Value::String("pool-refresh")).Set("pool", NamedRef(virStoragePoolGetName(pool), uuid));
  Emit(o, std::move(v));
}
static void OnNetworkLifecycle(virConnectPtr, virNetworkPtr net, int event, int detail, void* o) {
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  virNetworkGetUUIDString(net, uuid);
  Value v = Value::Object();
  v.Set("type", Value::String("network-lifecycle")).Set("network", NamedRef(virNetworkGetName(net), uuid));
  v.Set("event", NUM(event)).Set("detail", NUM(detail));
  Emit(o, std::move(v));
}

// ---- Close callback ----------------------------------------------------------------

static void OnClose(virConnectPtr, int reason, void* o) {
  Value v = Value::Object();
  v.Set("type", Value::String("close")).Set("reason", NUM(reason));
  Emit(o, std::move(v));
}

bool RegisterCloseCallback(virConnectPtr conn, EventSink* sink) {
  return virConnectRegisterCloseCallback(conn, OnClose, sink, FreeSink) == 0;
}

void CloseConnection(virConnectPtr conn, std::vector<int> dom, std::vector<int> pool, std::vector<int> net,
                     bool closeCb) {
  // Deregister before close so libvirt calls every free callback; errors
  // here (a daemon that already went away) must not keep the reference.
  for (int id : dom) virConnectDomainEventDeregisterAny(conn, id);
  for (int id : pool) virConnectStoragePoolEventDeregisterAny(conn, id);
  for (int id : net) virConnectNetworkEventDeregisterAny(conn, id);
  if (closeCb) virConnectUnregisterCloseCallback(conn, OnClose);
  virResetLastError();
  virConnectClose(conn);
}

// connectEventsRegister(conn, fn(record)) -> { registered: [], unsupported: [{ event, message }] }
static Napi::Value EventsRegister(const Napi::CallbackInfo& info) {
  ConnectionBox* box = ArgConnectionBox(info, 0);
  auto c = ArgConnection(info, 0);
  if (!info[1].IsFunction()) throw Napi::TypeError::New(info.Env(), "argument 1 must be a function");
  EventSink* sink = NewSink(info.Env(), info[1].As<Napi::Function>(), "virtbus-libvirt-events");
  return Run(info.Env(), [box, c, sink]() -> Value {
    virConnectPtr conn = c.get();
    Value registered = Value::Array(), unsupported = Value::Array();
    std::vector<int> dom, pools, nets;
    auto record = [&](int id, const char* name, std::vector<int>& into) {
      if (id >= 0) {
        sink->refs++;
        into.push_back(id);
        registered.Push(Value::String(name));
      } else {
        LibvirtFailure f = CaptureLastError("registration failed");
        Value u = Value::Object();
        u.Set("event", Value::String(name)).Set("message", Value::String(f.message)).Set("code", NUM(f.code));
        unsupported.Push(std::move(u));
      }
    };
    // libvirt calls FreeSink only for registrations that succeeded, so
    // count the reference before the call and undo it on failure.
    for (const auto& spec : kDomainEvents) {
      sink->refs++;
      int id = virConnectDomainEventRegisterAny(conn, nullptr, spec.id, spec.cb, sink, FreeSink);
      sink->refs--;
      record(id, spec.name, dom);
    }
    sink->refs++;
    int id = virConnectStoragePoolEventRegisterAny(conn, nullptr, VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                                   VIR_STORAGE_POOL_EVENT_CALLBACK(OnPoolLifecycle), sink, FreeSink);
    sink->refs--;
    record(id, "pool-lifecycle", pools);
    sink->refs++;
    id = virConnectStoragePoolEventRegisterAny(conn, nullptr, VIR_STORAGE_POOL_EVENT_ID_REFRESH,
                                               VIR_STORAGE_POOL_EVENT_CALLBACK(OnPoolRefresh), sink, FreeSink);
    sink->refs--;
    record(id, "pool-refresh", pools);
    sink->refs++;
    id = virConnectNetworkEventRegisterAny(conn, nullptr, VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                           VIR_NETWORK_EVENT_CALLBACK(OnNetworkLifecycle), sink, FreeSink);
    sink->refs--;
    record(id, "network-lifecycle", nets);
    {
      std::lock_guard<std::mutex> lock(box->mu);
      box->domainCallbacks.insert(box->domainCallbacks.end(), dom.begin(), dom.end());
      box->poolCallbacks.insert(box->poolCallbacks.end(), pools.begin(), pools.end());
      box->networkCallbacks.insert(box->networkCallbacks.end(), nets.begin(), nets.end());
    }
    ReleaseSink(sink);  // the creator's reference
    Value r = Value::Object();
    r.Set("registered", std::move(registered)).Set("unsupported", std::move(unsupported));
    return r;
  });
}

// connectEventsDeregister(conn): deregisters every event callback of the connection.
static Napi::Value EventsDeregister(const Napi::CallbackInfo& info) {
  ConnectionBox* box = ArgConnectionBox(info, 0);
  auto c = ArgConnection(info, 0);
  std::vector<int> dom, pools, nets;
  {
    std::lock_guard<std::mutex> lock(box->mu);
    dom.swap(box->domainCallbacks);
    pools.swap(box->poolCallbacks);
    nets.swap(box->networkCallbacks);
  }
  return Run(info.Env(), [c, dom, pools, nets]() -> Value {
    for (int id : dom) virConnectDomainEventDeregisterAny(c.get(), id);
    for (int id : pools) virConnectStoragePoolEventDeregisterAny(c.get(), id);
    for (int id : nets) virConnectNetworkEventDeregisterAny(c.get(), id);
    virResetLastError();
    return Value::Null();
  });
}

void InitEvents(Napi::Env env, Napi::Object exports) {
  static bool loopStarted = false;
  if (!loopStarted) {
    loopStarted = true;
    if (!StartEventLoop()) throw Napi::Error::New(env, "libvirt's event loop could not start (epoll, eventfd)");
  }
  VB_EXPORT(exports, "connectEventsRegister", EventsRegister);
  VB_EXPORT(exports, "connectEventsDeregister", EventsDeregister);
}

}  // namespace vb
