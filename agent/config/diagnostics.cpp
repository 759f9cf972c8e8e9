#include "agent/config/diagnostics.h"

#include <algorithm>

namespace lb::config {

std::string Diagnostic::toString() const {
  std::string out;
  if (where) {
    out = where->file;
    if (where->line > 0) out += ":" + std::to_string(where->line);
    out += ": ";
  } else if (!path.empty()) {
    out = path + ": ";
  }
  out += severity == Severity::kError ? "error: " : "warning: ";
  out += message;
  return out;
}

void SourceMap::set(const std::string& path, Location where) {
  map_[path] = std::move(where);
}

std::optional<Location> SourceMap::find(std::string_view path) const {
  std::string key(path);
  while (!key.empty()) {
    if (auto it = map_.find(key); it != map_.end()) return it->second;
    auto cut = key.find_last_of(".[");
    if (cut == std::string::npos) break;
    key.resize(cut);
  }
  return std::nullopt;
}

namespace {
// "frontends[3].binds[0]" with offset 2 -> "frontends[5].binds[0]".
std::string shiftIndex(const std::string& path, std::string_view prefix, int offset) {
  if (offset == 0 || path.rfind(prefix, 0) != 0) return path;
  auto close = path.find(']', prefix.size());
  int index = std::stoi(path.substr(prefix.size(), close - prefix.size()));
  return std::string(prefix) + std::to_string(index + offset) + path.substr(close);
}
}  // namespace

void SourceMap::merge(const SourceMap& other, int frontend_offset, int backend_offset) {
  for (const auto& [path, where] : other.map_) {
    std::string shifted = shiftIndex(path, "frontends[", frontend_offset);
    shifted = shiftIndex(shifted, "backends[", backend_offset);
    map_[shifted] = where;
  }
}

void Diagnostics::error(Location where, std::string message) {
  items_.push_back({Severity::kError, std::move(where), "", std::move(message)});
}

void Diagnostics::warning(Location where, std::string message) {
  items_.push_back({Severity::kWarning, std::move(where), "", std::move(message)});
}

void Diagnostics::errorAt(std::string path, std::string message) {
  items_.push_back({Severity::kError, std::nullopt, std::move(path), std::move(message)});
}

void Diagnostics::warningAt(std::string path, std::string message) {
  items_.push_back({Severity::kWarning, std::nullopt, std::move(path), std::move(message)});
}

bool Diagnostics::hasErrors() const {
  return errorCount() > 0;
}

int Diagnostics::errorCount() const {
  return static_cast<int>(std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) {
    return d.severity == Severity::kError;
  }));
}

int Diagnostics::warningCount() const {
  return static_cast<int>(items_.size()) - errorCount();
}

void Diagnostics::locate(const SourceMap& sources) {
  for (auto& item : items_) {
    if (item.where || item.path.empty()) continue;
    item.where = sources.find(item.path);
  }
}

std::string Diagnostics::format() const {
  std::string out;
  for (const auto& item : items_) out += item.toString() + "\n";
  return out;
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

}  // namespace lb::config
