// Storage pool and volume calls: virStoragePool*, virStorageVol*.
#include "common.h"

#include <cstdlib>

namespace vb {

using P = virStoragePoolPtr;
using V = virStorageVolPtr;

static Napi::Value PoolGetIdentity(const Napi::CallbackInfo& info) {
  auto p = ArgHandle<P>(info, 0);
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  virStoragePoolGetUUIDString(p.get(), uuid);
  auto o = Napi::Object::New(info.Env());
  const char* name = virStoragePoolGetName(p.get());
  o.Set("name", name ? Napi::Value(Napi::String::New(info.Env(), name)) : info.Env().Null());
  o.Set("uuid", Napi::String::New(info.Env(), uuid));
  return o;
}
static Napi::Value PoolLookupByName(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* s, unsigned) { return NewHandle(virStoragePoolLookupByName(c, s)); });
}
static Napi::Value PoolLookupByUUIDString(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* s, unsigned) { return NewHandle(virStoragePoolLookupByUUIDString(c, s)); });
}
static Napi::Value PoolLookupByVolume(const Napi::CallbackInfo& info) {
  return Call0<V>(info, [](V v) { return NewHandle(virStoragePoolLookupByVolume(v)); });
}
static Napi::Value PoolDefineXML(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* x, unsigned f) { return NewHandle(virStoragePoolDefineXML(c, x, f)); });
}
static Napi::Value PoolCreateXML(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* x, unsigned f) { return NewHandle(virStoragePoolCreateXML(c, x, f)); });
}

#define POOL_FLAGS(NAME, FN) \
  static Napi::Value NAME(const Napi::CallbackInfo& info) { return CallFlags<P>(info, [](P p, unsigned f) { return Status(FN(p, f)); }); }
#define POOL_PLAIN(NAME, FN) \
  static Napi::Value NAME(const Napi::CallbackInfo& info) { return Call0<P>(info, [](P p) { return Status(FN(p)); }); }
POOL_FLAGS(PoolCreate, virStoragePoolCreate)
POOL_FLAGS(PoolBuild, virStoragePoolBuild)
POOL_FLAGS(PoolRefresh, virStoragePoolRefresh)
POOL_FLAGS(PoolDelete, virStoragePoolDelete)
POOL_PLAIN(PoolDestroy, virStoragePoolDestroy)
POOL_PLAIN(PoolUndefine, virStoragePoolUndefine)

static Napi::Value PoolIsActive(const Napi::CallbackInfo& info) {
  return Call0<P>(info, [](P p) { return Boolean(virStoragePoolIsActive(p)); });
}
static Napi::Value PoolIsPersistent(const Napi::CallbackInfo& info) {
  return Call0<P>(info, [](P p) { return Boolean(virStoragePoolIsPersistent(p)); });
}
static Napi::Value PoolGetAutostart(const Napi::CallbackInfo& info) {
  return Call0<P>(info, [](P p) {
    int a = 0;
    Check(virStoragePoolGetAutostart(p, &a));
    return Value::Bool(a != 0);
  });
}
static Napi::Value PoolSetAutostart(const Napi::CallbackInfo& info) {
  auto p = ArgHandle<P>(info, 0);
  int on = info[1].ToBoolean().Value() ? 1 : 0;
  return Run(info.Env(), [p, on]() -> Value { return Status(virStoragePoolSetAutostart(p.get(), on)); });
}
static Napi::Value PoolGetInfo(const Napi::CallbackInfo& info) {
  return Call0<P>(info, [](P p) {
    virStoragePoolInfo i;
    Check(virStoragePoolGetInfo(p, &i));
    Value o = Value::Object();
    o.Set("state", Value::Number(i.state));
    o.Set("capacity", Value::Number(static_cast<double>(i.capacity)));
    o.Set("allocation", Value::Number(static_cast<double>(i.allocation)));
    o.Set("available", Value::Number(static_cast<double>(i.available)));
    return o;
  });
}
static Napi::Value PoolGetXMLDesc(const Napi::CallbackInfo& info) {
  return CallFlags<P>(info, [](P p, unsigned f) { return TakeString(virStoragePoolGetXMLDesc(p, f)); });
}
static Napi::Value PoolListAllVolumes(const Napi::CallbackInfo& info) {
  return CallFlags<P>(info, [](P p, unsigned f) {
    V* list = nullptr;
    int n = virStoragePoolListAllVolumes(p, &list, f);
    if (n < 0) Fail();
    Value a = Value::Array();
    for (int i = 0; i < n; i++) a.Push(Value::Handle(HandleKind::StorageVolume, list[i]));
    free(list);
    return a;
  });
}

// ---- Volumes ---------------------------------------------------------------------------

static Napi::Value VolGetIdentity(const Napi::CallbackInfo& info) {
  auto v = ArgHandle<V>(info, 0);
  auto o = Napi::Object::New(info.Env());
  const char* name = virStorageVolGetName(v.get());
  const char* key = virStorageVolGetKey(v.get());
  o.Set("name", name ? Napi::Value(Napi::String::New(info.Env(), name)) : info.Env().Null());
  o.Set("key", key ? Napi::Value(Napi::String::New(info.Env(), key)) : info.Env().Null());
  return o;
}
static Napi::Value VolLookupByName(const Napi::CallbackInfo& info) {
  return CallStrFlags<P>(info, [](P p, const char* s, unsigned) { return NewHandle(virStorageVolLookupByName(p, s)); });
}
static Napi::Value VolLookupByPath(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* s, unsigned) { return NewHandle(virStorageVolLookupByPath(c, s)); });
}
static Napi::Value VolLookupByKey(const Napi::CallbackInfo& info) {
  return ConnStrFlags(info, [](virConnectPtr c, const char* s, unsigned) { return NewHandle(virStorageVolLookupByKey(c, s)); });
}
static Napi::Value VolCreateXML(const Napi::CallbackInfo& info) {
  return CallStrFlags<P>(info, [](P p, const char* x, unsigned f) { return NewHandle(virStorageVolCreateXML(p, x, f)); });
}
// storageVolCreateXMLFrom(pool, xml, sourceVol, flags)
static Napi::Value VolCreateXMLFrom(const Napi::CallbackInfo& info) {
  auto p = ArgHandle<P>(info, 0);
  std::string xml = ArgString(info, 1);
  auto src = ArgHandle<V>(info, 2);
  unsigned int f = ArgFlags(info, 3);
  return Run(info.Env(), [p, xml, src, f]() -> Value { return NewHandle(virStorageVolCreateXMLFrom(p.get(), xml.c_str(), src.get(), f)); });
}
static Napi::Value VolDelete(const Napi::CallbackInfo& info) {
  return CallFlags<V>(info, [](V v, unsigned f) { return Status(virStorageVolDelete(v, f)); });
}
static Napi::Value VolWipe(const Napi::CallbackInfo& info) {
  return CallFlags<V>(info, [](V v, unsigned f) { return Status(virStorageVolWipe(v, f)); });
}
static Napi::Value VolResize(const Napi::CallbackInfo& info) {
  auto v = ArgHandle<V>(info, 0);
  auto bytes = static_cast<unsigned long long>(ArgNumber(info, 1));
  unsigned int f = ArgFlags(info, 2);
  return Run(info.Env(), [v, bytes, f]() -> Value { return Status(virStorageVolResize(v.get(), bytes, f)); });
}
static Napi::Value VolGetInfo(const Napi::CallbackInfo& info) {
  return Call0<V>(info, [](V v) {
    virStorageVolInfo i;
    Check(virStorageVolGetInfo(v, &i));
    Value o = Value::Object();
    o.Set("type", Value::Number(i.type));
    o.Set("capacity", Value::Number(static_cast<double>(i.capacity)));
    o.Set("allocation", Value::Number(static_cast<double>(i.allocation)));
    return o;
  });
}
static Napi::Value VolGetPath(const Napi::CallbackInfo& info) {
  return Call0<V>(info, [](V v) { return TakeString(virStorageVolGetPath(v)); });
}
static Napi::Value VolGetXMLDesc(const Napi::CallbackInfo& info) {
  return CallFlags<V>(info, [](V v, unsigned f) { return TakeString(virStorageVolGetXMLDesc(v, f)); });
}

void InitStorage(Napi::Env env, Napi::Object exports) {
  VB_EXPORT(exports, "storagePoolGetIdentity", PoolGetIdentity);
  VB_EXPORT(exports, "storagePoolLookupByName", PoolLookupByName);
  VB_EXPORT(exports, "storagePoolLookupByUUIDString", PoolLookupByUUIDString);
  VB_EXPORT(exports, "storagePoolLookupByVolume", PoolLookupByVolume);
  VB_EXPORT(exports, "storagePoolDefineXML", PoolDefineXML);
  VB_EXPORT(exports, "storagePoolCreateXML", PoolCreateXML);
  VB_EXPORT(exports, "storagePoolCreate", PoolCreate);
  VB_EXPORT(exports, "storagePoolBuild", PoolBuild);
  VB_EXPORT(exports, "storagePoolRefresh", PoolRefresh);
  VB_EXPORT(exports, "storagePoolDelete", PoolDelete);
  VB_EXPORT(exports, "storagePoolDestroy", PoolDestroy);
  VB_EXPORT(exports, "storagePoolUndefine", PoolUndefine);
  VB_EXPORT(exports, "storagePoolIsActive", PoolIsActive);
  VB_EXPORT(exports, "storagePoolIsPersistent", PoolIsPersistent);
  VB_EXPORT(exports, "storagePoolGetAutostart", PoolGetAutostart);
  VB_EXPORT(exports, "storagePoolSetAutostart", PoolSetAutostart);
  VB_EXPORT(exports, "storagePoolGetInfo", PoolGetInfo);
  VB_EXPORT(exports, "storagePoolGetXMLDesc", PoolGetXMLDesc);
  VB_EXPORT(exports, "storagePoolListAllVolumes", PoolListAllVolumes);
  VB_EXPORT(exports, "storageVolGetIdentity", VolGetIdentity);
  VB_EXPORT(exports, "storageVolLookupByName", VolLookupByName);
  VB_EXPORT(exports, "storageVolLookupByPath", VolLookupByPath);
  VB_EXPORT(exports, "storageVolLookupByKey", VolLookupByKey);
  VB_EXPORT(exports, "storageVolCreateXML", VolCreateXML);
  VB_EXPORT(exports, "storageVolCreateXMLFrom", VolCreateXMLFrom);
  VB_EXPORT(exports, "storageVolDelete", VolDelete);
  VB_EXPORT(exports, "storageVolWipe", VolWipe);
  VB_EXPORT(exports, "storageVolResize", VolResize);
  VB_EXPORT(exports, "storageVolGetInfo", VolGetInfo);
  VB_EXPORT(exports, "storageVolGetPath", VolGetPath);
  VB_EXPORT(exports, "storageVolGetXMLDesc", VolGetXMLDesc);
}

}  // namespace vb
