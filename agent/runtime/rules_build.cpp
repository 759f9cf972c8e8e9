#include "agent/runtime/rules_build.h"

#include <limits>

namespace lb::runtime {

namespace {

// The fetches' view of this snapshot: counters read live state through the snapshot's objects
// (which the rules, part of the same snapshot, cannot outlive).
class SnapshotBinder : public rules::Binder {
 public:
  SnapshotBinder(Runtime& runtime, std::string own) : rt_(runtime), own_(std::move(own)) {}

  std::function<int64_t()> counter(std::string_view name, std::string_view arg,
                                   std::string& error) override {
    std::string proxy = arg.empty() ? own_ : std::string(arg);
    if (name == "fe_conn") {
      for (const auto& fe : rt_.frontends) {
        if (fe.name == proxy) {
          return [state = fe.state] { return int64_t{state->gate.active()}; };
        }
      }
      error = "fe_conn: no frontend '" + proxy + "'";
      return nullptr;
    }
    if (name == "srv_is_up" || name == "srv_conn") {
      auto slash = proxy.find('/');
      BackendRuntime* be = rt_.findBackend(proxy.substr(0, slash));
      if (be != nullptr && slash != std::string::npos) {
        for (size_t i = 0; i < be->servers.size(); ++i) {
          if (be->servers[i].name != proxy.substr(slash + 1)) continue;
          if (name == "srv_conn") return [be, i] { return int64_t{be->active(i)}; };
          return [be, i] {
            const auto& s = *be->servers[i].state;
            return int64_t{s.op.load(std::memory_order_relaxed) == OpState::kUp &&
                           s.admin.load(std::memory_order_relaxed) != AdminState::kMaint};
          };
        }
      }
      error = std::string(name) + ": no server '" + proxy + "'";
      return nullptr;
    }
    BackendRuntime* be = rt_.findBackend(proxy);
    if (be == nullptr) {
      // A frontend's own counters: be_conn/nbsrv of a frontend mean its default backend.
      for (const auto& fe : rt_.frontends) {
        if (fe.name == proxy) be = fe.backend;
      }
    }
    if (be == nullptr) {
      error = std::string(name) + ": no backend '" + proxy + "'";
      return nullptr;
    }
    if (name == "nbsrv") return [be] { return int64_t{be->usableCount()}; };
    if (name == "be_conn") {
      return [be] { return int64_t{be->state->active.load(std::memory_order_relaxed)}; };
    }
    if (name == "queue") return [be] { return int64_t{be->state->queued()}; };
    if (name == "avg_queue") {
      return [be] {
        uint32_t usable = be->usableCount();
        int64_t queued = be->state->queued();
        return usable == 0 ? queued : queued / usable;
      };
    }
    if (name == "connslots") {
      // Free connection and queue slots over the usable servers; -1 when one is unlimited.
      return [be] {
        int64_t free = 0;
        for (size_t i = 0; i < be->servers.size(); ++i) {
          if (!be->usable(i)) continue;
          if (be->servers[i].maxconn == 0) return int64_t{-1};
          free += int64_t{be->servers[i].maxconn} - be->active(i);
        }
        if (be->queue_limit != 0) free += int64_t{be->queue_limit} - be->state->queued();
        return free;
      };
    }
    error = "unknown counter '" + std::string(name) + "'";
    return nullptr;
  }

  std::shared_ptr<rules::StickTable> table(std::string_view name, std::string& error) override {
    std::string wanted = name.empty() ? own_ : std::string(name);
    for (const auto& be : rt_.backends) {
      if (be->name == wanted && be->table) return be->table;
    }
    for (const auto& fe : rt_.frontends) {
      if (fe.name == wanted && fe.table) return fe.table;
    }
    error = "no stick-table '" + wanted + "'";
    return nullptr;
  }

 private:
  Runtime& rt_;
  std::string own_;
};

}  // namespace

bool buildRules(const lb::v1::Config& config, Runtime& runtime, StateStore& store,
                BuildError& error) {
  // Tables first: any proxy's rules may name any table.
  for (const auto& be : config.backends()) {
    if (!be.has_stick_table()) continue;
    if (BackendRuntime* backend = runtime.findBackend(be.name())) {
      backend->table = store.stickTable(be.name(), be.stick_table());
      runtime.tables.push_back(backend->table);
    }
  }
  for (const auto& fe : config.frontends()) {
    if (!fe.has_stick_table()) continue;
    for (auto& frontend : runtime.frontends) {
      if (frontend.name != fe.name()) continue;
      frontend.table = store.stickTable(fe.name(), fe.stick_table());
      runtime.tables.push_back(frontend.table);
    }
  }
  for (int i = 0; i < config.backends_size(); ++i) {
    const auto& be = config.backends(i);
    BackendRuntime* backend = runtime.findBackend(be.name());
    if (backend == nullptr) continue;
    auto spec = rules::rulesOf(be);
    SnapshotBinder binder(runtime, be.name());
    std::string where;
    std::string message;
    auto compiled = rules::compileRules(spec, &binder, where, message);
    std::string path = "backends[" + std::to_string(i) + "]";
    if (!compiled) {
      error = {path + (where.empty() ? "" : "." + where), message};
      return false;
    }
    if (compiled->empty()) continue;
    for (const auto& rule : compiled->use_server) {
      size_t found = backend->servers.size();
      for (size_t s = 0; s < backend->servers.size(); ++s) {
        if (backend->servers[s].name == rule.server) found = s;
      }
      if (found == backend->servers.size()) {
        error = {path + ".use_server", "use-server '" + rule.server + "' not found"};
        return false;
      }
      backend->use_server_targets.push_back(found);
    }
    backend->rules = std::move(compiled);
  }
  for (int i = 0; i < config.frontends_size(); ++i) {
    const auto& fe = config.frontends(i);
    FrontendRuntime* frontend = nullptr;
    for (auto& candidate : runtime.frontends) {
      if (candidate.name == fe.name()) frontend = &candidate;
    }
    if (frontend == nullptr) continue;  // a statistics page
    SnapshotBinder binder(runtime, fe.name());
    std::string where;
    std::string message;
    auto compiled = rules::compileRules(rules::rulesOf(fe), &binder, where, message);
    std::string path = "frontends[" + std::to_string(i) + "]";
    if (!compiled) {
      error = {path + (where.empty() ? "" : "." + where), message};
      return false;
    }
    if (compiled->empty()) continue;
    for (const auto& rule : compiled->use_backend) {
      BackendRuntime* target = nullptr;
      if (rule.format.empty()) {
        target = runtime.findBackend(rule.name);
        if (target == nullptr) {
          error = {path + ".use_backend", "use_backend '" + rule.name + "' not found"};
          return false;
        }
      }
      frontend->use_backend_targets.push_back(target);
    }
    frontend->rules = std::move(compiled);
  }
  return true;
}

}  // namespace lb::runtime
