#include "agent/runtime/runtime.h"

namespace lb::runtime {

bool BackendRuntime::usable(size_t i) const {
  const ServerState& s = *servers[i].state;
  return s.op.load(std::memory_order_relaxed) == OpState::kUp &&
         s.admin.load(std::memory_order_relaxed) == AdminState::kReady &&
         s.weight.load(std::memory_order_relaxed) > 0;
}

uint32_t BackendRuntime::usableCount() const {
  uint32_t n = 0;
  for (size_t i = 0; i < servers.size(); ++i) n += usable(i) ? 1 : 0;
  return n;
}

uint32_t BackendRuntime::weight(size_t i) const {
  return servers[i].state->weight.load(std::memory_order_relaxed);
}

uint32_t BackendRuntime::active(size_t i) const {
  return servers[i].state->active.load(std::memory_order_relaxed);
}

bool BackendRuntime::full(size_t i) const {
  return servers[i].maxconn != 0 && active(i) >= servers[i].maxconn;
}

std::string BindRuntime::key() const {
  return endpoint.address().to_string() + "|" + std::to_string(endpoint.port());
}

std::string BindRuntime::port0Key() const {
  return frontend + "#" + std::to_string(index) + "|" + endpoint.address().to_string();
}

std::string BindRuntime::socketOptions() const {
  return std::string(v4v6 ? "v4v6" : "") + "|" + (v6only ? "v6only" : "") + "|" + interface +
         (tfo ? "|tfo" : "");
}

const FrontendRuntime* Runtime::findFrontend(const std::string& name) const {
  for (const auto& fe : frontends) {
    if (fe.name == name) return &fe;
  }
  return nullptr;
}

BackendRuntime* Runtime::findBackend(const std::string& name) const {
  for (const auto& be : backends) {
    if (be->name == name) return be.get();
  }
  return nullptr;
}

}  // namespace lb::runtime
