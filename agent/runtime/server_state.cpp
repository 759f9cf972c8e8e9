#include "agent/runtime/server_state.h"

namespace lb::runtime {

const char* toString(OpState state) {
  return state == OpState::kUp ? "UP" : state == OpState::kNolb ? "NOLB" : "DOWN";
}

const char* toString(AdminState state) {
  switch (state) {
    case AdminState::kReady:
      return "READY";
    case AdminState::kDrain:
      return "DRAIN";
    case AdminState::kMaint:
      return "MAINT";
  }
  return "?";
}

bool BackendState::enqueue(std::shared_ptr<QueuedConnection> waiter, uint32_t limit) {
  std::lock_guard lock(mutex_);
  if (limit != 0 && queue_.size() >= limit) return false;
  queue_.push_back(std::move(waiter));
  queued_.store(static_cast<uint32_t>(queue_.size()), std::memory_order_relaxed);
  return true;
}

void BackendState::remove(const std::shared_ptr<QueuedConnection>& waiter) {
  std::lock_guard lock(mutex_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (*it == waiter) {
      queue_.erase(it);
      break;
    }
  }
  queued_.store(static_cast<uint32_t>(queue_.size()), std::memory_order_relaxed);
}

void BackendState::slotReleased() {
  if (queued_.load(std::memory_order_relaxed) == 0) return;
  std::shared_ptr<QueuedConnection> next;
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) return;
    next = std::move(queue_.front());
    queue_.pop_front();
    queued_.store(static_cast<uint32_t>(queue_.size()), std::memory_order_relaxed);
  }
  next->wake();
}

bool ConnectionGate::tryAcquire(uint32_t max) {
  uint32_t now = active_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (max != 0 && now > max) {
    release();
    return false;
  }
  return true;
}

void ConnectionGate::release() {
  active_.fetch_sub(1, std::memory_order_acq_rel);
  if (!has_parked_.load(std::memory_order_acquire)) return;
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    wake.swap(parked_);
    has_parked_.store(false, std::memory_order_release);
  }
  for (auto& resume : wake) resume();
}

void ConnectionGate::park(uint32_t max, std::function<void()> resume) {
  {
    std::lock_guard lock(mutex_);
    parked_.push_back(std::move(resume));
    has_parked_.store(true, std::memory_order_release);
  }
  // A release may have happened between the failed acquire and the park: re-check.
  if (max == 0 || active_.load(std::memory_order_acquire) < max) {
    std::vector<std::function<void()>> wake;
    {
      std::lock_guard lock(mutex_);
      wake.swap(parked_);
      has_parked_.store(false, std::memory_order_release);
    }
    for (auto& r : wake) r();
  }
}

namespace {
template <typename T>
std::shared_ptr<T> lookup(std::map<std::string, std::weak_ptr<T>>& map, const std::string& key) {
  if (auto it = map.find(key); it != map.end()) {
    if (auto live = it->second.lock()) return live;
  }
  auto fresh = std::make_shared<T>();
  map[key] = fresh;
  return fresh;
}

template <typename Map>
void prune(Map& map) {
  std::erase_if(map, [](const auto& entry) { return entry.second.expired(); });
}
}  // namespace

std::shared_ptr<ServerState> StateStore::server(const std::string& backend, const std::string& name,
                                                const std::string& address, uint32_t port,
                                                bool* created) {
  const std::string key = backend + "/" + name + "@" + address + ":" + std::to_string(port);
  if (created != nullptr) *created = false;
  if (auto it = servers_.find(key); it != servers_.end()) {
    if (auto live = it->second.lock()) return live;
  }
  auto fresh = std::make_shared<ServerState>(next_server_id_++);
  servers_[key] = fresh;
  if (created != nullptr) *created = true;
  return fresh;
}

std::shared_ptr<BackendState> StateStore::backend(const std::string& name) {
  return lookup(backends_, name);
}

std::shared_ptr<FrontendState> StateStore::frontend(const std::string& name) {
  return lookup(frontends_, name);
}

std::shared_ptr<rules::StickTable> StateStore::stickTable(const std::string& name,
                                                          const lb::v1::StickTable& spec) {
  auto& slot = tables_[name];
  auto table = slot.lock();
  if (!table || !table->compatible(spec)) {
    table = std::make_shared<rules::StickTable>(name, spec);
    slot = table;
  }
  return table;
}

void StateStore::collect() {
  prune(servers_);
  prune(backends_);
  prune(frontends_);
  prune(tables_);
}

}  // namespace lb::runtime
