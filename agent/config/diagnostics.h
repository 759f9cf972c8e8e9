#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lb::config {

// Where a piece of configuration was written. line 0 means "the file as a whole".
struct Location {
  std::string file;
  int line = 0;
};

enum class Severity { kWarning, kError };

// One compiler-style message about a configuration. Either `where` (text input) or `path`
// (a field path such as "backends[0].servers[1].weight", for proto/YAML/JSON input) says where.
struct Diagnostic {
  Severity severity = Severity::kError;
  std::optional<Location> where;
  std::string path;
  std::string message;

  // "lb.cfg:4: error: message", "backends[0].name: error: message" or "error: message".
  std::string toString() const;
};

// Maps field paths to the place they were written, so that the validator (which only knows
// field paths) can report file:line for text input.
class SourceMap {
 public:
  void set(const std::string& path, Location where);
  // The location of `path` or of its nearest recorded parent ("a[1].b.c" -> "a[1].b" -> "a[1]").
  std::optional<Location> find(std::string_view path) const;
  // Copies every entry of `other`, with "frontends[i]"/"backends[i]" shifted by the offsets.
  void merge(const SourceMap& other, int frontend_offset, int backend_offset);
  bool empty() const { return map_.empty(); }

 private:
  std::unordered_map<std::string, Location> map_;
};

// The messages collected while loading a configuration: every error is reported, not the first.
class Diagnostics {
 public:
  void error(Location where, std::string message);
  void warning(Location where, std::string message);
  void errorAt(std::string path, std::string message);
  void warningAt(std::string path, std::string message);

  bool hasErrors() const;
  int errorCount() const;
  int warningCount() const;
  const std::vector<Diagnostic>& all() const { return items_; }
  // Gives path-only diagnostics the file:line of their path when `sources` knows it.
  void locate(const SourceMap& sources);
  // All messages, one per line, in the order they were found.
  std::string format() const;
  void append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace lb::config
