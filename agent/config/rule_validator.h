#pragma once

#include "agent/config/diagnostics.h"
#include "lb/v1/config.pb.h"

namespace lb::config {

// Checks the layer-4 rules of every frontend and backend against the rest of the Config: ACL
// names, use_backend / use-server targets, stick tables, the proxies counter fetches name.
void validateRules(const lb::v1::Config& config, Diagnostics& diag);

// Whether the frontend picks backends with use_backend rules (then default_backend is optional).
bool routesByRules(const lb::v1::Frontend& frontend);

}  // namespace lb::config
