#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/common/resolver.h"
#include "agent/config/diagnostics.h"
#include "agent/config/tokenizer.h"
#include "lb/v1/config.pb.h"

namespace lb::config {

using common::Resolver;

enum class Format { kAuto, kHaproxy, kYaml, kJson };

struct LoadOptions {
  // Checks that host names resolve; null skips the lookups.
  Resolver* resolver = nullptr;
  EnvLookup env = processEnv();
};

// One named text (a file's contents, or a test's string).
struct Source {
  std::string name;
  std::string text;
  Format format = Format::kAuto;
};

// A configuration read from one or more sources, normalized and validated. `config` is only
// meaningful when ok(); `diagnostics` lists every error and warning with file:line (or the
// field path when no line is known).
struct LoadResult {
  lb::v1::Config config;
  Diagnostics diagnostics;
  SourceMap sources;
  // The texts it was read from (empty for a typed Config), for those who show the user's file.
  std::vector<Source> texts;
  // The host names as the validator resolved them, so that building the snapshot uses the
  // same answers without asking DNS again (null: ask the agent's resolver).
  std::shared_ptr<common::Resolver> names;
  bool ok() const { return !diagnostics.hasErrors(); }
};

// .yaml/.yml -> YAML, .json -> JSON; otherwise by content: a document that starts with '{' is
// JSON, one whose first keyword is an HAProxy section is HAProxy syntax, anything else YAML.
Format detectFormat(const std::string& path, std::string_view text);

// "haproxy", "yaml", "json" or "" (detect), as the API spells formats; nullopt for another word.
std::optional<Format> formatNamed(std::string_view name);
const char* formatName(Format format);

// Parses the sources in order into one Config (HAProxy-syntax sources share one parser, so
// defaults carry on from one to the next as with `haproxy -f a -f b`), then normalizes and
// validates it.
LoadResult load(const std::vector<Source>& sources, const LoadOptions& options);

// Reads the files and calls load(); an unreadable file is an error naming it.
LoadResult loadFiles(const std::vector<std::string>& paths, const LoadOptions& options);

// Normalizes and validates a Config that arrived as a proto (gRPC); errors carry field paths.
Diagnostics check(lb::v1::Config& config, const LoadOptions& options);

}  // namespace lb::config
