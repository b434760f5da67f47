// The addon's own thread pool. libvirt calls can block for a long time (a
// hung QEMU monitor, a slow remote daemon), so they never run on libuv's
// shared threadpool (4 threads that fs and dns also need) nor on the JS
// thread. Results come back through one thread-safe function.
#include "common.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <algorithm>
#include <chrono>

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

// How many workers run calls at once: about one per core. On a small
// machine many threads awake at once spend their time handing libvirt's
// locks to each other (measured on 2 cores: 46k lookups/s with 16 awake,
// 146k with one). More wake only when calls stop starting: an overseer
// wakes one more worker whenever calls are queued and none has started for
// kStuckAfter — every busy worker may be stuck in libvirt (a hung QEMU
// monitor), so the next call gets a thread of its own within a millisecond,
// up to the pool's size.
constexpr auto kStuckAfter = std::chrono::milliseconds(1);

class WorkerPool {
 public:
  WorkerPool() : target_(std::max(1u, std::thread::hardware_concurrency())) {}

  // Queues a call and wakes a worker for it; deferred: only queues it (a
  // worker that is awake takes it when its call ends) until Flush().
  void Submit(Call* c, bool deferred) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(c);
      if (!overseer_) {
        overseer_ = true;
        std::thread(&WorkerPool::Oversee, this).detach();
      }
      if (deferred) return;
    }
    Flush();
  }
  void Flush() {
    bool wakeOverseer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      WakeLocked(/*force=*/false);
      // Only when a call has nobody to take it (every worker busy, the target
      // reached) and the overseer sleeps: a call a free worker takes cannot be
      // stuck behind a hung one. Waking it on every quiet spell cost a futex
      // and a contended lock per command under load.
      wakeOverseer = ClaimOverseerLocked();
    }
    if (wakeOverseer) overseerCv_.notify_one();
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
  void Oversee();
  // Calls queued beyond the workers awake to take them. mu_ held.
  bool Unattended() const { return queue_.size() > free_; }
  // True when the sleeping overseer must watch (calls unattended); the caller
  // notifies it after unlocking. Marks it awake so one notify suffices. mu_ held.
  bool ClaimOverseerLocked() {
    if (!overseerIdle_ || !Unattended()) return false;
    overseerIdle_ = false;
    return true;
  }
  // Wakes (or starts) a worker for the queue when nobody free will take it:
  // below the target, or beyond it (force: calls stopped starting). mu_ held.
  void WakeLocked(bool force) {
    if (queue_.empty() || free_ > 0) return;
    if (!force && busy_ >= target_) return;
    if (idle_ > wakeups_) {
      wakeups_++;  // a token: spurious wake-ups of the condition variable take none
      free_++;
      cv_.notify_one();
    } else if (threads_ < size_) {
      threads_++;
      free_++;
      std::thread(&WorkerPool::Loop, this).detach();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable overseerCv_;
  std::deque<Call*> queue_;
  size_t size_ = 16;
  size_t target_;
  size_t threads_ = 0;
  size_t idle_ = 0;     // waiting for a wake-up token
  size_t wakeups_ = 0;  // tokens given, not yet taken
  size_t free_ = 0;     // awake (or starting) and not in a call: will take the next call
  size_t busy_ = 0;     // inside a call
  uint64_t started_ = 0;
  bool overseer_ = false;
  bool overseerIdle_ = false;  // the overseer waits for calls (not in its timed watch)
};

WorkerPool* pool = new WorkerPool();  // never destroyed: detached threads use it
Napi::ThreadSafeFunction completions;
size_t pending = 0;  // JS thread only
// Batched wake-ups (SetDeferWakes): a call made while others are
// outstanding is only queued, and FlushWakes() — which the JS side calls on
// the next tick after any call — wakes workers once for all of them. A call
// on an idle pool wakes one at once: a lone command keeps its latency.
bool deferWakes = false;  // JS thread only
bool unflushed = false;   // JS thread only: calls queued without a wake-up

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
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {  // free here: counted by whoever woke or started us, or after our last call
    if (queue_.empty()) {
      free_--;
      idle_++;
      cv_.wait(lock, [this] { return wakeups_ > 0; });
      wakeups_--;
      idle_--;
      continue;  // free again (the waker counted us); another may have taken the call
    }
    Call* c = queue_.front();
    queue_.pop_front();
    free_--;
    busy_++;
    started_++;
    WakeLocked(/*force=*/false);  // more queued and room below the target
    // Calls left with nobody to take them while this one runs (it may hang): the overseer watches.
    bool wakeOverseer = ClaimOverseerLocked();
    lock.unlock();
    if (wakeOverseer) overseerCv_.notify_one();
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
    lock.lock();
    busy_--;
    free_++;  // looks for the next call without sleeping
  }
}

void WorkerPool::Oversee() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (!Unattended()) {
      overseerIdle_ = true;
      overseerCv_.wait(lock);
    }
    overseerIdle_ = false;
    uint64_t before = started_;
    overseerCv_.wait_for(lock, kStuckAfter);
    if (Unattended() && started_ == before) WakeLocked(/*force=*/true);
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
  bool idle = pending++ == 0;
  if (idle) completions.Ref(env);
  bool deferred = !idle && deferWakes;
  if (deferred) unflushed = true;
  pool->Submit(c, deferred);
  return promise;
}

void SetDeferWakes(bool on) {
  deferWakes = on;
  if (!on) FlushWakes();
}

void FlushWakes() {
  if (!unflushed) return;
  unflushed = false;
  pool->Flush();
}

void SetPoolSize(size_t n) { pool->SetSize(n); }
size_t PoolSize() { return pool->Size(); }

}  // namespace vb
