#pragma once

#include "agent/runtime/build.h"
#include "agent/runtime/runtime.h"
#include "lb/v1/config.pb.h"

namespace lb::runtime {

// Second step of a snapshot build, once its backends and frontends exist: the stick tables
// (from the store: an unchanged table keeps its entries), then every proxy's layer-4 rules,
// compiled and bound to this snapshot's backends, servers and tables. False with `error` set.
bool buildRules(const lb::v1::Config& config, Runtime& runtime, StateStore& store,
                BuildError& error);

}  // namespace lb::runtime
