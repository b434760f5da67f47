// Connection and node calls: virConnect*, virNode*.
#include "common.h"

#include <thread>

namespace vb {

ConnectionBox* ArgConnectionBox(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<ConnectionBox*>(UnwrapHandle(info, i, HandleKind::Connection));
}

Held<virConnectPtr> ArgConnection(const Napi::CallbackInfo& info, size_t i) {
  ConnectionBox* box = ArgConnectionBox(info, i);
  if (!box->conn) throw Napi::Error::New(info.Env(), "connection is closed");
  return Hold(box->conn);
}

static void FinalizeBox(void* p) {
  auto* box = static_cast<ConnectionBox*>(p);
  if (box->conn) {
    // Collected without close(): close off the JS thread, it may do RPC.
    virConnectPtr conn = box->conn;
    auto d = box->domainCallbacks, s = box->poolCallbacks, n = box->networkCallbacks;
    bool cb = box->closeSink != nullptr;
    std::thread([=] { CloseConnection(conn, d, s, n, cb); }).detach();
  }
  delete box;
}

// connectOpen(uri | null, flags, onClose?, keepaliveInterval, keepaliveCount)
static Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string uri;
  bool hasUri = ArgOptString(info, 0, &uri);
  unsigned int flags = ArgFlags(info, 1);
  EventSink* sink = info[2].IsFunction() ? NewSink(env, info[2].As<Napi::Function>(), "virtbus-libvirt-close") : nullptr;
  int kaInterval = info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  unsigned int kaCount = info[4].IsNumber() ? info[4].As<Napi::Number>().Uint32Value() : 0;

  auto box = std::make_shared<ConnectionBox*>(new ConnectionBox());
  Napi::Promise p = Run(env, [=]() -> Value {
    virConnectPtr conn = virConnectOpenAuth(hasUri ? uri.c_str() : nullptr, virConnectAuthPtrDefault, flags);
    if (!conn) {
      LibvirtFailure f = CaptureLastError("cannot open connection");
      if (sink) ReleaseSink(sink);
      throw f;
    }
    if (kaInterval > 0) {
      // Only remote drivers implement keepalive; local ones answer "unsupported".
      if (virConnectSetKeepAlive(conn, kaInterval, kaCount) < 0) virResetLastError();
    }
    (*box)->conn = conn;
    if (sink) {
      if (RegisterCloseCallback(conn, sink)) {
        (*box)->closeSink = sink;
      } else {
        virResetLastError();
        ReleaseSink(sink);
      }
    }
    return Value::Null();
  });
  // Wrap once the open succeeded; the handle is built on the JS thread.
  auto wrap = Napi::Function::New(env, [box](const Napi::CallbackInfo& i) -> Napi::Value {
    return WrapTagged(i.Env(), HandleKind::Connection, *box, FinalizeBox);
  });
  auto onFail = Napi::Function::New(env, [box](const Napi::CallbackInfo& i) -> Napi::Value {
    delete *box;
    throw Napi::Error(i.Env(), i[0].As<Napi::Object>());
  });
  return p.Get("then").As<Napi::Function>().Call(p, {wrap, onFail});
}

static Napi::Value Close(const Napi::CallbackInfo& info) {
  ConnectionBox* box = ArgConnectionBox(info, 0);
  virConnectPtr conn = box->conn;
  if (!conn) return Run(info.Env(), [] { return Value::Null(); });  // idempotent
  box->conn = nullptr;
  std::lock_guard<std::mutex> lock(box->mu);
  auto d = box->domainCallbacks, s = box->poolCallbacks, n = box->networkCallbacks;
  bool cb = box->closeSink != nullptr;
  box->domainCallbacks.clear();
  box->poolCallbacks.clear();
  box->networkCallbacks.clear();
  box->closeSink = nullptr;
  return Run(info.Env(), [=]() -> Value {
    CloseConnection(conn, d, s, n, cb);
    return Value::Null();
  });
}

#define CONN_CALL(NAME, BODY)                                            \
  static Napi::Value NAME(const Napi::CallbackInfo& info) {              \
    auto c = ArgConnection(info, 0);                                     \
    return Run(info.Env(), [c]() -> Value { virConnectPtr conn = c.get(); BODY }); \
  }

CONN_CALL(IsAlive, { return Value::Bool(Check(virConnectIsAlive(conn)) == 1); })
CONN_CALL(GetHostname, { return TakeString(virConnectGetHostname(conn)); })
CONN_CALL(GetURI, { return TakeString(virConnectGetURI(conn)); })
CONN_CALL(GetCapabilities, { return TakeString(virConnectGetCapabilities(conn)); })
CONN_CALL(GetType, {
  const char* t = virConnectGetType(conn);
  if (!t) Fail();
  return Value::String(t);
})
CONN_CALL(GetLibVersion, {
  unsigned long v = 0;
  Check(virConnectGetLibVersion(conn, &v));
  return Value::Number(static_cast<double>(v));
})
CONN_CALL(GetVersion, {
  unsigned long v = 0;
  Check(virConnectGetVersion(conn, &v));
  return Value::Number(static_cast<double>(v));
})
CONN_CALL(NodeGetInfo, {
  virNodeInfo i;
  Check(virNodeGetInfo(conn, &i));
  Value o = Value::Object();
  o.Set("model", Value::String(i.model));
  o.Set("memoryKiB", Value::Number(static_cast<double>(i.memory)));
  o.Set("cpus", Value::Number(i.cpus));
  o.Set("mhz", Value::Number(i.mhz));
  o.Set("nodes", Value::Number(i.nodes));
  o.Set("sockets", Value::Number(i.sockets));
  o.Set("cores", Value::Number(i.cores));
  o.Set("threads", Value::Number(i.threads));
  return o;
})
CONN_CALL(NodeGetFreeMemory, {
  unsigned long long b = virNodeGetFreeMemory(conn);
  if (b == 0) {
    virErrorPtr e = virGetLastError();
    if (e && e->code != VIR_ERR_OK) Fail();
  }
  return Value::Number(static_cast<double>(b));
})

CONN_CALL(NodeGetCPUStats, {
  int n = 0;
  Check(virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, nullptr, &n, 0));
  std::vector<virNodeCPUStats> s(n > 0 ? n : 1);
  Check(virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, s.data(), &n, 0));
  Value o = Value::Object();
  for (int i = 0; i < n; i++) o.Set(s[i].field, Value::Number(static_cast<double>(s[i].value)));
  return o;
})
CONN_CALL(NodeGetMemoryStats, {
  int n = 0;
  Check(virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, nullptr, &n, 0));
  std::vector<virNodeMemoryStats> s(n > 0 ? n : 1);
  Check(virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, s.data(), &n, 0));
  Value o = Value::Object();
  for (int i = 0; i < n; i++) o.Set(s[i].field, Value::Number(static_cast<double>(s[i].value)));
  return o;
})

template <typename T>
static Value HandleList(int n, T* list) {
  if (n < 0) Fail();
  Value a = Value::Array();
  for (int i = 0; i < n; i++) a.Push(Value::Handle(HandleTraits<T>::kind, list[i]));
  free(list);
  return a;
}

#define CONN_LIST(NAME, FN, T)                                                        \
  static Napi::Value NAME(const Napi::CallbackInfo& info) {                          \
    auto c = ArgConnection(info, 0);                                                 \
    unsigned int flags = ArgFlags(info, 1);                                          \
    return Run(info.Env(), [c, flags]() -> Value {                                   \
      T* list = nullptr;                                                             \
      int n = FN(c.get(), &list, flags);                                             \
      return HandleList(n, list);                                                    \
    });                                                                              \
  }
CONN_LIST(ListAllDomains, virConnectListAllDomains, virDomainPtr)
CONN_LIST(ListAllStoragePools, virConnectListAllStoragePools, virStoragePoolPtr)
CONN_LIST(ListAllNetworks, virConnectListAllNetworks, virNetworkPtr)

// connectGetAllDomainStats(conn, stats, flags) -> [{ domain, params }]
static Napi::Value GetAllDomainStats(const Napi::CallbackInfo& info) {
  auto c = ArgConnection(info, 0);
  unsigned int stats = ArgFlags(info, 1);
  unsigned int flags = ArgFlags(info, 2);
  return Run(info.Env(), [c, stats, flags]() -> Value {
    virDomainStatsRecordPtr* recs = nullptr;
    int n = virConnectGetAllDomainStats(c.get(), stats, &recs, flags);
    if (n < 0) Fail();
    Value a = Value::Array();
    for (int i = 0; i < n; i++) {
      Value r = Value::Object();
      virDomainRef(recs[i]->dom);
      r.Set("domain", Value::Handle(HandleKind::Domain, recs[i]->dom));
      r.Set("params", TypedParamsToValue(recs[i]->params, recs[i]->nparams));
      a.Push(std::move(r));
    }
    virDomainStatsRecordListFree(recs);
    return a;
  });
}

void InitConnect(Napi::Env env, Napi::Object exports) {
  VB_EXPORT(exports, "connectOpen", Open);
  VB_EXPORT(exports, "connectClose", Close);
  VB_EXPORT(exports, "connectIsAlive", IsAlive);
  VB_EXPORT(exports, "connectGetHostname", GetHostname);
  VB_EXPORT(exports, "connectGetURI", GetURI);
  VB_EXPORT(exports, "connectGetCapabilities", GetCapabilities);
  VB_EXPORT(exports, "connectGetType", GetType);
  VB_EXPORT(exports, "connectGetLibVersion", GetLibVersion);
  VB_EXPORT(exports, "connectGetVersion", GetVersion);
  VB_EXPORT(exports, "nodeGetInfo", NodeGetInfo);
  VB_EXPORT(exports, "nodeGetFreeMemory", NodeGetFreeMemory);
  VB_EXPORT(exports, "nodeGetCPUStats", NodeGetCPUStats);
  VB_EXPORT(exports, "nodeGetMemoryStats", NodeGetMemoryStats);
  VB_EXPORT(exports, "connectListAllDomains", ListAllDomains);
  VB_EXPORT(exports, "connectListAllStoragePools", ListAllStoragePools);
  VB_EXPORT(exports, "connectListAllNetworks", ListAllNetworks);
  VB_EXPORT(exports, "connectGetAllDomainStats", GetAllDomainStats);
}

}  // namespace vb
