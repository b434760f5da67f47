// Virtual network calls: virNetwork*.
#include "common.h"

namespace vb {

using N = virNetworkPtr;

static Napi::Value GetIdentity(const Napi::CallbackInfo& info) {
  auto n = ArgHandle<N>(info, 0);
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  virNetworkGetUUIDString(n.get(), uuid);
  auto o = Napi::Object::New(info.Env());
  const char* name = virNetworkGetName(n.get());
  o.Set("name", name ? Napi::Value(Napi::String::New(info.Env(), name)) : info.Env().Null());
  o.Set("uuid", Napi::String::New(info.Env(), uuid));
  return o;
}
static Napi::Value LookupByName(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* s, unsigned) { return NewHandle(virNetworkLookupByName(c, s)); });
}
static Napi::Value LookupByUUIDString(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* s, unsigned) { return NewHandle(virNetworkLookupByUUIDString(c, s)); });
}
static Napi::Value DefineXML(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* x, unsigned f) { return NewHandle(virNetworkDefineXMLFlags(c, x, f)); });
}
static Napi::Value CreateXML(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* x, unsigned f) { return NewHandle(virNetworkCreateXMLFlags(c, x, f)); });
}

#define NET_STATUS(NAME, FN) \
  static Napi::Value NAME(const Napi::CallbackInfo& info) { return Call0<N>(info, [](N n) { return Status(FN(n)); }); }
#define NET_BOOL(NAME, FN) \
  static Napi::Value NAME(const Napi::CallbackInfo& info) { return Call0<N>(info, [](N n) { return Boolean(FN(n)); }); }
NET_STATUS(Create, virNetworkCreate)
NET_STATUS(Destroy, virNetworkDestroy)
NET_STATUS(Undefine, virNetworkUndefine)
NET_BOOL(IsActive, virNetworkIsActive)
NET_BOOL(IsPersistent, virNetworkIsPersistent)

static Napi::Value GetAutostart(const Napi::CallbackInfo& info) {
  return Call0<N>(info, [](N n) {
    int a = 0;
    Check(virNetworkGetAutostart(n, &a));
    return Value::Bool(a != 0);
  });
}
static Napi::Value SetAutostart(const Napi::CallbackInfo& info) {
  auto n = ArgHandle<N>(info, 0);
  int on = info[1].ToBoolean().Value() ? 1 : 0;
  return Run(info.Env(), [n, on]() -> Value { return Status(virNetworkSetAutostart(n.get(), on)); });
}
static Napi::Value GetXMLDesc(const Napi::CallbackInfo& info) {
  return CallFlags<N>(info, [](N n, unsigned f) { return TakeString(virNetworkGetXMLDesc(n, f)); });
}
static Napi::Value GetBridgeName(const Napi::CallbackInfo& info) {
  return Call0<N>(info, [](N n) { return TakeString(virNetworkGetBridgeName(n)); });
}

void InitNetwork(Napi::Env env, Napi::Object exports) {
  VB_EXPORT(exports, "networkGetIdentity", GetIdentity);
  VB_EXPORT(exports, "networkLookupByName", LookupByName);
  VB_EXPORT(exports, "networkLookupByUUIDString", LookupByUUIDString);
  VB_EXPORT(exports, "networkDefineXML", DefineXML);
  VB_EXPORT(exports, "networkCreateXML", CreateXML);
  VB_EXPORT(exports, "networkCreate", Create);
  VB_EXPORT(exports, "networkDestroy", Destroy);
  VB_EXPORT(exports, "networkUndefine", Undefine);
  VB_EXPORT(exports, "networkIsActive", IsActive);
  VB_EXPORT(exports, "networkIsPersistent", IsPersistent);
  VB_EXPORT(exports, "networkGetAutostart", GetAutostart);
  VB_EXPORT(exports, "networkSetAutostart", SetAutostart);
  VB_EXPORT(exports, "networkGetXMLDesc", GetXMLDesc);
  VB_EXPORT(exports, "networkGetBridgeName", GetBridgeName);
}

}  // namespace vb
