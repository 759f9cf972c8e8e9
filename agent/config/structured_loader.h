#pragma once

#include <string>
#include <string_view>

#include "agent/config/diagnostics.h"
#include "lb/v1/config.pb.h"

namespace lb::config {

// Reads a YAML or JSON document into an lb.v1.Config through protobuf's JSON mapping: the
// document is checked field by field against the proto's descriptors (unknown fields get a
// did-you-mean, wrong types a clear message, each with its field path and line), then handed
// to JsonStringToMessage. Two conveniences on values only: durations may be written as HAProxy
// times ("4s", "500ms"; a bare number is milliseconds), and enum values in any case with '-'
// for '_' ("roundrobin", "static-rr", "tcp").
//
// The result is appended to `out` (so several files merge), with its field paths recorded in
// `sources`. Returns false when the document had errors; `out` is then unchanged.
bool loadStructured(std::string_view text, const std::string& file, lb::v1::Config& out,
                    SourceMap& sources, Diagnostics& diag);

}  // namespace lb::config
