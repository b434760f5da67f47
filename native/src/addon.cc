// Module entry of the virtbus libvirt addon. Order matters: libvirt's event
// implementation must be registered before the first connection is opened.
#include "common.h"
#include <v8.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace vb {

static void SilenceDefaultErrorPrinter(void*, virErrorPtr) {}

static Napi::Value SetErrorClassFn(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "argument 0 must be a constructor");
  SetErrorClass(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

static Napi::Value SetThreadPoolSize(const Napi::CallbackInfo& info) {
  SetPoolSize(static_cast<size_t>(ArgNumber(info, 0)));
  return info.Env().Undefined();
}

static Napi::Value SetDeferWakesFn(const Napi::CallbackInfo& info) {
  SetDeferWakes(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

static Napi::Value FlushWakesFn(const Napi::CallbackInfo& info) {
  FlushWakes();
  return info.Env().Undefined();
}

static Napi::Value GetThreadPoolSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(PoolSize()));
}

static Napi::Value GetVersion(const Napi::CallbackInfo& info) {
  unsigned long lib = 0;
  virGetVersion(&lib, nullptr, nullptr);
  return Napi::Number::New(info.Env(), static_cast<double>(lib));
}

// Returns the C heap's free pages to the system (glibc's malloc_trim, every
// arena): what parsing and the start-up snapshot freed stays resident until
// then. True when memory was released; false elsewhere than glibc.
static Napi::Value TrimHeap(const Napi::CallbackInfo& info) {
#ifdef __GLIBC__
  return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// Tells V8 once that memory is short, then that it is not: a full, compacting
// collection that also shrinks the young generation to its minimum (a forced
// gc() does not). The young generation grows again with the load. The one
// call here that is not N-API: V8's heap has no N-API counterpart; the addon
// is built from source against the Node that loads it.
static Napi::Value RelieveV8Heap(const Napi::CallbackInfo& info) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kCritical);
  isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kNone);
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (virInitialize() < 0) throw Napi::Error::New(env, "virInitialize failed");
  // libvirt prints every error to stderr by default; we report them as
  // LibvirtError instead.
  virSetErrorFunc(nullptr, SilenceDefaultErrorPrinter);
  InitCompletions(env);
  InitEvents(env, exports);  // registers the event implementation first
  InitConnect(env, exports);
  InitDomain(env, exports);
  InitStorage(env, exports);
  InitNetwork(env, exports);
  InitNotify(env, exports);
  VB_EXPORT(exports, "setErrorClass", SetErrorClassFn);
  VB_EXPORT(exports, "setThreadPoolSize", SetThreadPoolSize);
  VB_EXPORT(exports, "getThreadPoolSize", GetThreadPoolSize);
  VB_EXPORT(exports, "setDeferWakes", SetDeferWakesFn);
  VB_EXPORT(exports, "flushWakes", FlushWakesFn);
  VB_EXPORT(exports, "getVersion", GetVersion);
  VB_EXPORT(exports, "trimHeap", TrimHeap);
  VB_EXPORT(exports, "relieveV8Heap", RelieveV8Heap);
  return exports;
}

}  // namespace vb

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vb::Init(env, exports); }
NODE_API_MODULE(virtbus_libvirt, InitModule)
