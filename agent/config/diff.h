#pragma once

#include <string>

#include "lb/v1/config.pb.h"

namespace lb::config {

// What changes from `from` to `to`, both normalized: frontends and backends matched by name,
// servers by backend and name, each change naming the field paths that differ, and a one-line
// summary. Equal configs give an empty diff ("no changes").
lb::v1::ConfigDiff diff(const lb::v1::Config& from, const lb::v1::Config& to);

// True when the diff lists nothing.
bool empty(const lb::v1::ConfigDiff& diff);

}  // namespace lb::config
