// Shared declarations of the virtbus libvirt addon.
//
// The addon is deliberately mechanical: it checks arguments, owns libvirt
// handle lifetimes, runs calls on its own thread pool and turns libvirt errors
// into one JS error class. Defaults, validation and naming live in TypeScript
// (src/libvirt/).
#pragma once

#include <napi.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vb {

// ---- Values built off the JS thread -------------------------------------
// Worker threads and libvirt's event thread may not touch napi values, so
// they describe their result as a Value tree; the JS thread converts it.

enum class HandleKind { Connection, Domain, StoragePool, StorageVolume, Network, Snapshot };

struct Value {
  enum class Kind { Undefined, Null, Bool, Number, String, Array, Object, Handle };
  Kind kind = Kind::Undefined;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> fields;
  HandleKind handleKind = HandleKind::Domain;
  void* handle = nullptr;  // one owned libvirt reference, released by the JS wrapper

  Value() = default;
  Value(Value&&) = default;
  Value& operator=(Value&&) = default;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  static Value Null() { Value v; v.kind = Kind::Null; return v; }
  static Value Bool(bool b) { Value v; v.kind = Kind::Bool; v.boolean = b; return v; }
  static Value Number(double n) { Value v; v.kind = Kind::Number; v.number = n; return v; }
  static Value String(const std::string& s) { Value v; v.kind = Kind::String; v.string = s; return v; }
  static Value StringOrNull(const char* s) { return s ? String(s) : Null(); }
  static Value Array() { Value v; v.kind = Kind::Array; return v; }
  static Value Object() { Value v; v.kind = Kind::Object; return v; }
  static Value Handle(HandleKind k, void* p) { Value v; v.kind = Kind::Handle; v.handleKind = k; v.handle = p; return v; }

  Value& Set(const std::string& key, Value v) { fields.emplace_back(key, std::move(v)); return *this; }
  Value& Push(Value v) { items.push_back(std::move(v)); return *this; }
};

Napi::Value ToJS(Napi::Env env, Value& v);

// Typed parameters (virTypedParameter) both ways.
Value TypedParamsToValue(virTypedParameterPtr params, int n);
struct TypedParam {
  std::string name;
  int type;  // VIR_TYPED_PARAM_*
  double number = 0;
  bool boolean = false;
  std::string string;
};
std::vector<TypedParam> TypedParamsFromJS(const Napi::Value& v);
// Builds a libvirt array; the caller frees it with virTypedParamsFree.
bool TypedParamsBuild(const std::vector<TypedParam>& in, virTypedParameterPtr* out, int* n);

// ---- Errors ---------------------------------------------------------------

// Thrown on a worker thread when libvirt failed; carries virGetLastError of
// *that* thread (libvirt's error is thread-local).
struct LibvirtFailure {
  int code = VIR_ERR_INTERNAL_ERROR;
  int domain = VIR_FROM_NONE;
  int level = VIR_ERR_ERROR;
  std::string message;
};
LibvirtFailure CaptureLastError(const char* fallback);
[[noreturn]] void Fail(const char* fallback = "libvirt call failed");
Napi::Error MakeLibvirtError(Napi::Env env, const LibvirtFailure& f);
void SetErrorClass(const Napi::Function& ctor);

// Helpers for worker lambdas.
inline int Check(int rc) { if (rc < 0) Fail(); return rc; }
Value TakeString(char* s);  // frees s; Fail()s on NULL

// ---- Handles ----------------------------------------------------------------

struct EventSink;  // events.cc

// What a JS Connection handle points at. conn is NULL once closed; callback
// ids are kept so close can deregister them first.
struct ConnectionBox {
  std::mutex mu;  // guards the callback ids, written by workers
  virConnectPtr conn = nullptr;
  std::vector<int> domainCallbacks, poolCallbacks, networkCallbacks;
  EventSink* closeSink = nullptr;
};
// Deregisters events and the close callback, then drops the connection's
// reference. Runs on a worker thread (deregistering may do RPC).
void CloseConnection(virConnectPtr conn, std::vector<int> dom, std::vector<int> pool, std::vector<int> net, bool closeCb);
// Registers the close callback; onClose(reason:number) runs on the JS thread.
EventSink* NewSink(Napi::Env env, Napi::Function fn, const char* name);
bool RegisterCloseCallback(virConnectPtr conn, EventSink* sink);
void ReleaseSink(EventSink* sink);
ConnectionBox* ArgConnectionBox(const Napi::CallbackInfo& info, size_t i);

template <typename T> struct HandleTraits;
#define VB_HANDLE_TRAITS(PTR, KIND, REF, FREE)                                  \
  template <> struct HandleTraits<PTR> {                                        \
    static constexpr HandleKind kind = HandleKind::KIND;                        \
    static int Ref(PTR p) { return REF(p); }                                    \
    static int Free(PTR p) { return FREE(p); }                                  \
  };
VB_HANDLE_TRAITS(virDomainPtr, Domain, virDomainRef, virDomainFree)
VB_HANDLE_TRAITS(virStoragePoolPtr, StoragePool, virStoragePoolRef, virStoragePoolFree)
VB_HANDLE_TRAITS(virStorageVolPtr, StorageVolume, virStorageVolRef, virStorageVolFree)
VB_HANDLE_TRAITS(virNetworkPtr, Network, virNetworkRef, virNetworkFree)
VB_HANDLE_TRAITS(virDomainSnapshotPtr, Snapshot, virDomainSnapshotRef, virDomainSnapshotFree)
VB_HANDLE_TRAITS(virConnectPtr, Connection, virConnectRef, virConnectClose)
#undef VB_HANDLE_TRAITS

// A reference held by a call in flight, so that a handle collected by the JS
// GC meanwhile cannot be freed under the worker.
template <typename T>
using Held = std::shared_ptr<typename std::remove_pointer<T>::type>;

template <typename T>
Held<T> Hold(T p) {
  HandleTraits<T>::Ref(p);
  return Held<T>(p, [](T q) { HandleTraits<T>::Free(q); });
}

Napi::Value WrapTagged(Napi::Env env, HandleKind kind, void* p, std::function<void(void*)> finalize);

// Unwraps argument i as a handle of the given kind (checks the type tag).
void* UnwrapHandle(const Napi::CallbackInfo& info, size_t i, HandleKind kind);
void* UnwrapValue(Napi::Value v, HandleKind kind, const std::string& what);
template <typename T>
Held<T> ArgHandle(const Napi::CallbackInfo& info, size_t i) {
  return Hold(static_cast<T>(UnwrapHandle(info, i, HandleTraits<T>::kind)));
}
template <typename T>
Value NewHandle(T p) {  // takes ownership of the reference returned by libvirt
  if (!p) Fail();
  return Value::Handle(HandleTraits<T>::kind, p);
}

// Argument helpers (JS thread).
std::string ArgString(const Napi::CallbackInfo& info, size_t i);
bool ArgOptString(const Napi::CallbackInfo& info, size_t i, std::string* out);  // false if null/undefined
unsigned int ArgFlags(const Napi::CallbackInfo& info, size_t i);                // undefined -> 0
double ArgNumber(const Napi::CallbackInfo& info, size_t i);

// ---- Asynchronous calls ------------------------------------------------------

using Work = std::function<Value()>;
// Runs work on the addon's own thread pool (never libuv's) and returns a
// Promise settled on the JS thread.
Napi::Promise Run(Napi::Env env, Work work);
void SetPoolSize(size_t n);
size_t PoolSize();
void InitCompletions(Napi::Env env);
void SetDeferWakes(bool on);
void FlushWakes();

// libvirt's event loop (event_loop.cc): registers it with libvirt and starts
// its thread. Once, before the first connection; false when epoll or
// eventfd could not be made.
bool StartEventLoop();

// ---- Families -----------------------------------------------------------------
void InitEvents(Napi::Env env, Napi::Object exports);
void InitConnect(Napi::Env env, Napi::Object exports);
void InitDomain(Napi::Env env, Napi::Object exports);
void InitStorage(Napi::Env env, Napi::Object exports);
void InitNetwork(Napi::Env env, Napi::Object exports);
// Not libvirt: the sd_notify datagram (notify.cc).
void InitNotify(Napi::Env env, Napi::Object exports);

// Connection handle access for other families (connect.cc).
Held<virConnectPtr> ArgConnection(const Napi::CallbackInfo& info, size_t i);

// Call shapes shared by the families: (handle), (handle, flags),
// (handle, string, flags). f runs on a worker with the raw pointer.
template <typename T, typename F>
Napi::Value Call0(const Napi::CallbackInfo& info, F f) {
  auto h = ArgHandle<T>(info, 0);
  return Run(info.Env(), [h, f]() -> Value { return f(h.get()); });
}
template <typename T, typename F>
Napi::Value CallFlags(const Napi::CallbackInfo& info, F f) {
  auto h = ArgHandle<T>(info, 0);
  unsigned int flags = ArgFlags(info, 1);
  return Run(info.Env(), [h, flags, f]() -> Value { return f(h.get(), flags); });
}
template <typename T, typename F>
Napi::Value CallStrFlags(const Napi::CallbackInfo& info, F f) {
  auto h = ArgHandle<T>(info, 0);
  std::string str = ArgString(info, 1);
  unsigned int flags = ArgFlags(info, 2);
  return Run(info.Env(), [h, str, flags, f]() -> Value { return f(h.get(), str.c_str(), flags); });
}
// Same shapes with a connection as the first argument.
template <typename F>
Napi::Value ConnStrFlags(const Napi::CallbackInfo& info, F f) {
  auto c = ArgConnection(info, 0);
  std::string str = ArgString(info, 1);
  unsigned int flags = ArgFlags(info, 2);
  return Run(info.Env(), [c, str, flags, f]() -> Value { return f(c.get(), str.c_str(), flags); });
}
inline Value Status(int rc) { Check(rc); return Value::Null(); }
inline Value Boolean(int rc) { return Value::Bool(Check(rc) == 1); }

#define VB_EXPORT(exports, name, fn) (exports).Set(name, Napi::Function::New(env, fn, name))

}  // namespace vb
