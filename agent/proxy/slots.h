#pragma once

#include <cstddef>
#include <optional>
#include <utility>

#include "agent/runtime/runtime.h"
#include "agent/runtime/server_state.h"

namespace lb::proxy {

// A slot taken from a ConnectionGate (global or frontend `maxconn`), given back exactly once:
// by reset() or on destruction. Giving it back resumes a parked listener.
class GateSlot {
 public:
  GateSlot() = default;
  explicit GateSlot(runtime::ConnectionGate& gate) : gate_(&gate) {}
  GateSlot(GateSlot&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
  GateSlot& operator=(GateSlot&& other) noexcept {
    if (this != &other) {
      reset();
      gate_ = std::exchange(other.gate_, nullptr);
    }
    return *this;
  }
  ~GateSlot() { reset(); }

  void reset() {
    if (gate_ != nullptr) std::exchange(gate_, nullptr)->release();
  }
  explicit operator bool() const { return gate_ != nullptr; }
  const runtime::ConnectionGate* gate() const { return gate_; }

 private:
  runtime::ConnectionGate* gate_ = nullptr;
};

// A connection counted in its backend's `active` while held.
class BackendSlot {
 public:
  BackendSlot() = default;
  BackendSlot(const BackendSlot&) = delete;
  BackendSlot& operator=(const BackendSlot&) = delete;
  ~BackendSlot() { reset(); }

  void take(runtime::BackendState& backend) {
    reset();
    backend.active.fetch_add(1, std::memory_order_relaxed);
    backend.total.fetch_add(1, std::memory_order_relaxed);
    backend_ = &backend;
  }
  void reset() {
    if (backend_ != nullptr) {
      std::exchange(backend_, nullptr)->active.fetch_sub(1, std::memory_order_relaxed);
    }
  }

 private:
  runtime::BackendState* backend_ = nullptr;
};

// A connection counted on one server (its `active`, which leastconn, first and maxconn read)
// while held. Giving it back wakes the oldest connection waiting in the backend's queue.
class ServerSlot {
 public:
  ServerSlot() = default;
  ServerSlot(const ServerSlot&) = delete;
  ServerSlot& operator=(const ServerSlot&) = delete;
  ~ServerSlot() { reset(); }

  // Takes a slot on server `index` of `backend`; `count_total` counts a new connection (a retry
  // on the same server does not).
  void take(runtime::BackendRuntime& backend, size_t index, bool count_total) {
    reset();
    auto& state = *backend.servers[index].state;
    state.active.fetch_add(1, std::memory_order_relaxed);
    if (count_total) state.total.fetch_add(1, std::memory_order_relaxed);
    backend_ = &backend;
    index_ = static_cast<uint32_t>(index);
  }
  void reset() {
    if (backend_ == nullptr) return;
    runtime::BackendRuntime* backend = std::exchange(backend_, nullptr);
    backend->servers[index_].state->active.fetch_sub(1, std::memory_order_relaxed);
    backend->state->slotReleased();
  }
  // The server held, if any.
  std::optional<size_t> index() const {
    return backend_ != nullptr ? std::optional<size_t>(index_) : std::nullopt;
  }

 private:
  runtime::BackendRuntime* backend_ = nullptr;
  uint32_t index_ = 0;
};

}  // namespace lb::proxy
