#pragma once

#include <memory>
#include <string>

#include "agent/common/resolver.h"
#include "agent/runtime/runtime.h"
#include "agent/runtime/server_state.h"
#include "lb/v1/config.pb.h"

namespace lb::runtime {

// What building a snapshot needs besides the Config.
struct BuildContext {
  uint64_t version = 0;
  StateStore* store = nullptr;           // live state: same identity, same state
  common::Resolver* resolver = nullptr;  // host names of servers and binds
  PassiveObserver* observer = nullptr;   // passive-check reports; may be null
  // Without a global `maxconn`, the limit is derived from the descriptor limit (0: unknown,
  // no limit), as HAProxy does, for this many worker threads.
  uint64_t fd_limit = 0;
  unsigned threads = 1;
};

// Why a build failed: the field path of the culprit ("backends[0].servers[2].address") and a
// sentence. The validator catches all of these for a config it accepted, unless the world
// changed between the two (a name that stopped resolving).
struct BuildError {
  std::string path;
  std::string message;
};

struct BuildResult {
  std::shared_ptr<Runtime> runtime;  // null on error
  BuildError error;
};

// Builds the immutable snapshot of a normalized, validated Config. Live state comes from the
// store (same identity, same state object). Building changes no state anyone else can see: a
// server new to the store starts with its configured weight (in MAINT when `disabled`), and a
// kept server's state is left for commitConfiguredState(), so a dry run or a failed apply
// changes nothing.
BuildResult buildRuntime(const lb::v1::Config& config, const BuildContext& context);

// Once `next` is in force: a kept server whose configured weight or `disabled` changed since
// `previous` takes the new value (an operator's weight or state set at run time stays
// otherwise). Control thread.
void commitConfiguredState(const Runtime& next, const Runtime* previous);

// HAProxy's rule for a global maxconn left unset: what the descriptor limit allows once the
// agent's own needs are set aside (listeners, checks, spare pipes, logs, the API), at two
// sockets per connection plus room for splice pipes. At least 1.
struct DerivedMaxconn {
  uint32_t maxconn = 0;
  uint64_t reserved = 0;  // descriptors set aside
};
DerivedMaxconn deriveMaxconn(uint64_t fd_limit, size_t listeners, size_t checked_servers,
                             unsigned threads);

// A server's check settings from its Config (the state machine's units).
HealthSettings healthSettings(const lb::v1::Server& server);

}  // namespace lb::runtime
