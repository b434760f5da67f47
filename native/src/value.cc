// Conversion of Values, typed parameters, handles, arguments and errors
// between libvirt and JS. Runs on the JS thread unless said otherwise.
#include "common.h"

#include <cstdlib>
#include <cstring>

namespace vb {

// ---- Handle wrappers ------------------------------------------------------------
// Every handle is a napi External tagged with its kind, so a Domain can never
// be passed where a StoragePool is expected (better-sqlite3 does the same).

static const napi_type_tag kTags[] = {
    {0x7a1c3e2b9d4f4e01ULL, 0x8b6e2d1f0a3c5e01ULL},  // Connection
    {0x7a1c3e2b9d4f4e02ULL, 0x8b6e2d1f0a3c5e02ULL},  // Domain
    {0x7a1c3e2b9d4f4e03ULL, 0x8b6e2d1f0a3c5e03ULL},  // StoragePool
    {0x7a1c3e2b9d4f4e04ULL, 0x8b6e2d1f0a3c5e04ULL},  // StorageVolume
    {0x7a1c3e2b9d4f4e05ULL, 0x8b6e2d1f0a3c5e05ULL},  // Network
    {0x7a1c3e2b9d4f4e06ULL, 0x8b6e2d1f0a3c5e06ULL},  // Snapshot
};
static const char* kKindNames[] = {"Connection", "Domain", "StoragePool", "StorageVolume", "Network", "Snapshot"};

static void FreeHandle(HandleKind kind, void* p) {
  switch (kind) {
    case HandleKind::Domain: virDomainFree(static_cast<virDomainPtr>(p)); break;
    case HandleKind::StoragePool: virStoragePoolFree(static_cast<virStoragePoolPtr>(p)); break;
    case HandleKind::StorageVolume: virStorageVolFree(static_cast<virStorageVolPtr>(p)); break;
    case HandleKind::Network: virNetworkFree(static_cast<virNetworkPtr>(p)); break;
    case HandleKind::Snapshot: virDomainSnapshotFree(static_cast<virDomainSnapshotPtr>(p)); break;
    case HandleKind::Connection: break;  // connections are boxed, see connect.cc
  }
}

Napi::Value WrapHandle(Napi::Env env, HandleKind kind, void* p) {
  // Freeing only drops a local reference (no RPC), so it is safe in a finalizer.
  auto ext = Napi::External<void>::New(env, p, [kind](Napi::Env, void* q) { FreeHandle(kind, q); });
  ext.TypeTag(&kTags[static_cast<int>(kind)]);
  return ext;
}

Napi::Value WrapTagged(Napi::Env env, HandleKind kind, void* p, std::function<void(void*)> fin) {
  auto ext = Napi::External<void>::New(env, p, [fin](Napi::Env, void* q) { fin(q); });
  ext.TypeTag(&kTags[static_cast<int>(kind)]);
  return ext;
}

void* UnwrapValue(Napi::Value v, HandleKind kind, const std::string& what) {
  if (!v.IsExternal() || !v.As<Napi::Object>().CheckTypeTag(&kTags[static_cast<int>(kind)])) {
    throw Napi::TypeError::New(v.Env(), what + " must be a " + kKindNames[static_cast<int>(kind)] + " handle");
  }
  return v.As<Napi::External<void>>().Data();
}

void* UnwrapHandle(const Napi::CallbackInfo& info, size_t i, HandleKind kind) {
  return UnwrapValue(info[i], kind, "argument " + std::to_string(i));
}

// ---- Values -------------------------------------------------------------------------

Napi::Value ToJS(Napi::Env env, Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return env.Undefined();
    case Value::Kind::Null: return env.Null();
    case Value::Kind::Bool: return Napi::Boolean::New(env, v.boolean);
    case Value::Kind::Number: return Napi::Number::New(env, v.number);
    case Value::Kind::String: return Napi::String::New(env, v.string);
    case Value::Kind::Array: {
      auto a = Napi::Array::New(env, v.items.size());
      for (size_t i = 0; i < v.items.size(); i++) a.Set(i, ToJS(env, v.items[i]));
      return a;
    }
    case Value::Kind::Object: {
      auto o = Napi::Object::New(env);
      for (auto& f : v.fields) o.Set(f.first, ToJS(env, f.second));
      return o;
    }
    case Value::Kind::Handle: {
      void* p = v.handle;
      v.handle = nullptr;  // ownership moves to the wrapper
      return WrapHandle(env, v.handleKind, p);
    }
  }
  return env.Undefined();
}

// ---- Typed parameters -----------------------------------------------------------

Value TypedParamsToValue(virTypedParameterPtr params, int n) {
  Value o = Value::Object();
  for (int i = 0; i < n; i++) {
    const virTypedParameter& p = params[i];
    switch (p.type) {
      case VIR_TYPED_PARAM_INT: o.Set(p.field, Value::Number(p.value.i)); break;
      case VIR_TYPED_PARAM_UINT: o.Set(p.field, Value::Number(p.value.ui)); break;
      // 64-bit values become doubles: exact up to 2^53, enough for bytes and ns here.
      case VIR_TYPED_PARAM_LLONG: o.Set(p.field, Value::Number(static_cast<double>(p.value.l))); break;
      case VIR_TYPED_PARAM_ULLONG: o.Set(p.field, Value::Number(static_cast<double>(p.value.ul))); break;
      case VIR_TYPED_PARAM_DOUBLE: o.Set(p.field, Value::Number(p.value.d)); break;
      case VIR_TYPED_PARAM_BOOLEAN: o.Set(p.field, Value::Bool(p.value.b != 0)); break;
      case VIR_TYPED_PARAM_STRING: o.Set(p.field, Value::StringOrNull(p.value.s)); break;
      default: break;
    }
  }
  return o;
}

// JS shape: [{ name, type: VIR_TYPED_PARAM_* number, value }]; the facade
// knows each parameter's type.
std::vector<TypedParam> TypedParamsFromJS(const Napi::Value& v) {
  std::vector<TypedParam> out;
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "typed parameters must be an array");
  auto a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsObject()) throw Napi::TypeError::New(v.Env(), "typed parameter must be an object");
    auto o = e.As<Napi::Object>();
    TypedParam p;
    p.name = o.Get("name").ToString().Utf8Value();
    p.type = o.Get("type").ToNumber().Int32Value();
    Napi::Value val = o.Get("value");
    if (p.type == VIR_TYPED_PARAM_STRING) p.string = val.ToString().Utf8Value();
    else if (p.type == VIR_TYPED_PARAM_BOOLEAN) p.boolean = val.ToBoolean().Value();
    else p.number = val.ToNumber().DoubleValue();
    out.push_back(std::move(p));
  }
  return out;
}

bool TypedParamsBuild(const std::vector<TypedParam>& in, virTypedParameterPtr* out, int* n) {
  int max = 0;
  *out = nullptr;
  *n = 0;
  for (const auto& p : in) {
    const char* k = p.name.c_str();
    int rc = -1;
    switch (p.type) {
      case VIR_TYPED_PARAM_INT: rc = virTypedParamsAddInt(out, n, &max, k, static_cast<int>(p.number)); break;
      case VIR_TYPED_PARAM_UINT: rc = virTypedParamsAddUInt(out, n, &max, k, static_cast<unsigned int>(p.number)); break;
      case VIR_TYPED_PARAM_LLONG: rc = virTypedParamsAddLLong(out, n, &max, k, static_cast<long long>(p.number)); break;
      case VIR_TYPED_PARAM_ULLONG: rc = virTypedParamsAddULLong(out, n, &max, k, static_cast<unsigned long long>(p.number)); break;
      case VIR_TYPED_PARAM_DOUBLE: rc = virTypedParamsAddDouble(out, n, &max, k, p.number); break;
      case VIR_TYPED_PARAM_BOOLEAN: rc = virTypedParamsAddBoolean(out, n, &max, k, p.boolean ? 1 : 0); break;
      case VIR_TYPED_PARAM_STRING: rc = virTypedParamsAddString(out, n, &max, k, p.string.c_str()); break;
      default: break;
    }
    if (rc < 0) {
      virTypedParamsFree(*out, *n);
      *out = nullptr;
      *n = 0;
      return false;
    }
  }
  return true;
}

// ---- Errors ------------------------------------------------------------------------

static Napi::FunctionReference* errorClass = nullptr;

void SetErrorClass(const Napi::Function& ctor) {
  if (!errorClass) errorClass = new Napi::FunctionReference();
  *errorClass = Napi::Persistent(ctor);
}

LibvirtFailure CaptureLastError(const char* fallback) {
  LibvirtFailure f;
  virErrorPtr e = virGetLastError();
  if (e) {
    f.code = e->code;
    f.domain = e->domain;
    f.level = e->level;
    f.message = e->message ? e->message : fallback;
    virResetLastError();
  } else {
    f.message = fallback;
  }
  return f;
}

void Fail(const char* fallback) { throw CaptureLastError(fallback); }

Napi::Error MakeLibvirtError(Napi::Env env, const LibvirtFailure& f) {
  if (!errorClass || errorClass->IsEmpty()) {
    auto e = Napi::Error::New(env, f.message);
    e.Set("code", Napi::Number::New(env, f.code));
    e.Set("domain", Napi::Number::New(env, f.domain));
    e.Set("level", Napi::Number::New(env, f.level));
    return e;
  }
  Napi::Object o = errorClass->New({Napi::String::New(env, f.message), Napi::Number::New(env, f.code),
                                    Napi::Number::New(env, f.domain), Napi::Number::New(env, f.level)});
  return Napi::Error(env, o);
}

Value TakeString(char* s) {
  if (!s) Fail();
  Value v = Value::String(s);
  free(s);
  return v;
}

// ---- Arguments ------------------------------------------------------------------

std::string ArgString(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

bool ArgOptString(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (info[i].IsUndefined() || info[i].IsNull()) return false;
  *out = ArgString(info, i);
  return true;
}

unsigned int ArgFlags(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsUndefined()) return 0;
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " (flags) must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

double ArgNumber(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

}  // namespace vb
