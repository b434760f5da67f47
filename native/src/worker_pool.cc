// The addon's own thread pool. libvirt calls can block for a long time (a
// hung QEMU monitor, a slow remote daemon), so they never run on libuv's
// shared threadpool (4 threads that fs and dns also need) nor on the JS
// thread. Results come back through one thread-safe function.
#include "common.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace vb {

namespace {

struct Call {
  Napi::Promise::Deferred deferred;
  Work work;
  Value result;
  bool failed = false;
  LibvirtFailure failure;
  std::string internal;  // a C++ exception that is not a libvirt error
  explicit Call(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

class WorkerPool {
 public:
  void Submit(Call* c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(c);
      // Grow lazily up to the configured size: a blocked call occupies one
      // thread, the others keep serving.
      if (idle_ == 0 && threads_ < size_) {
        threads_++;
        std::thread(&WorkerPool::Loop, this).detach();
      }
    }
    cv_.notify_one();
  }
  void SetSize(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    size_ = n < 1 ? 1 : n;
  }
  size_t Size() {
    std::lock_guard<std::mutex> lock(mu_);
    return size_;
  }

 private:
  // Threads are detached and live for the process: one stuck inside libvirt
  // must not make exit hang on a join.
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Call*> queue_;
  size_t size_ = 16;
  size_t threads_ = 0;
  size_t idle_ = 0;
};

WorkerPool* pool = new WorkerPool();  // never destroyed: detached threads use it
Napi::ThreadSafeFunction completions;
size_t pending = 0;  // JS thread only

void Complete(Napi::Env env, Napi::Function, Call* c) {
  std::unique_ptr<Call> call(c);
  if (--pending == 0) completions.Unref(env);
  if (env == nullptr) return;  // environment shutting down
  Napi::HandleScope scope(env);
  if (!call->internal.empty()) {
    call->deferred.Reject(Napi::Error::New(env, call->internal).Value());
  } else if (call->failed) {
    call->deferred.Reject(MakeLibvirtError(env, call->failure).Value());
  } else {
    try {
      call->deferred.Resolve(ToJS(env, call->result));
    } catch (const Napi::Error& e) {
      call->deferred.Reject(e.Value());
    }
  }
}

void WorkerPool::Loop() {
  for (;;) {
    Call* c;
    {
      std::unique_lock<std::mutex> lock(mu_);
      idle_++;
      cv_.wait(lock, [this] { return !queue_.empty(); });
      idle_--;
      c = queue_.front();
      queue_.pop_front();
    }
    virResetLastError();
    try {
      c->result = c->work();
    } catch (const LibvirtFailure& f) {
      c->failed = true;
      c->failure = f;
    } catch (const std::exception& e) {
      c->internal = e.what();
    } catch (...) {
      c->internal = "unknown native error";
    }
    c->work = nullptr;  // release held handles on this thread, not the JS one
    completions.NonBlockingCall(c, Complete);
  }
}

}  // namespace

void InitCompletions(Napi::Env env) {
  completions = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                              "virtbus-libvirt-completions", 0, 1);
  completions.Unref(env);  // only pending calls keep the process alive
}

Napi::Promise Run(Napi::Env env, Work work) {
  auto* c = new Call(env);
  c->work = std::move(work);
  Napi::Promise promise = c->deferred.Promise();
  if (pending++ == 0) completions.Ref(env);
  pool->Submit(c);
  return promise;
}

void SetPoolSize(size_t n) { pool->SetSize(n); }
size_t PoolSize() { return pool->Size(); }

}  // namespace vb
