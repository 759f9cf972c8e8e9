#pragma once

#include <set>

#include "agent/common/resolver.h"
#include "agent/config/diagnostics.h"
#include "lb/v1/config.pb.h"

namespace lb::config {

using common::Resolver;

struct ValidateOptions {
  // Checks that host names resolve; null skips the lookups.
  Resolver* resolver = nullptr;
  // Frontends (indexes) whose bind lines failed to parse: no "no 'bind' line" warning for them.
  std::set<int> unread_binds;
};

// Checks every cross-reference and range of a normalized Config and adds each problem to
// `diag` with its field path ("backends[0].servers[2].weight"); nothing stops at the first
// error. Warnings cover what is valid but likely wrong (missing timeouts, an unused rule).
void validate(const lb::v1::Config& config, const ValidateOptions& options, Diagnostics& diag);

// Whether some enabled frontend has a bind: a configuration without one accepts no connection,
// which lb refuses unless `allow-no-listener` says it is meant.
bool hasListener(const lb::v1::Config& config);
// A section that only serves HAProxy's statistics page / Prometheus exporter (no backend to
// send to): lb serves it on its binds and builds no data-plane frontend for it.
bool isStatsOnly(const lb::v1::Frontend& frontend);

}  // namespace lb::config
