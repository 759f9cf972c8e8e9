#include "agent/config/loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "agent/config/haproxy_parser.h"
#include "agent/config/normalize.h"
#include "agent/config/structured_loader.h"
#include "agent/config/validator.h"

namespace lb::config {

namespace {
bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Format detectFormat(const std::string& path, std::string_view text) {
  if (endsWith(path, ".yaml") || endsWith(path, ".yml")) return Format::kYaml;
  if (endsWith(path, ".json")) return Format::kJson;
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos && text[start] == '{') return Format::kJson;
  static const std::regex kSection(R"(^\s*(global|defaults|frontend|backend|listen)(\s|$))");
  static const std::regex kYamlKey(R"(^\s*[A-Za-z_]+\s*:)");
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, kSection)) return Format::kHaproxy;
    if (std::regex_search(line, kYamlKey) || line.rfind("---", 0) == 0) return Format::kYaml;
  }
  return Format::kHaproxy;
}

std::optional<Format> formatNamed(std::string_view name) {
  if (name.empty() || name == "auto") return Format::kAuto;
  if (name == "haproxy" || name == "cfg") return Format::kHaproxy;
  if (name == "yaml" || name == "yml") return Format::kYaml;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

const char* formatName(Format format) {
  switch (format) {
    case Format::kHaproxy:
      return "haproxy";
    case Format::kYaml:
      return "yaml";
    case Format::kJson:
      return "json";
    case Format::kAuto:
      break;
  }
  return "";
}

LoadResult load(const std::vector<Source>& sources, const LoadOptions& options) {
  LoadResult result;
  result.texts = sources;
  HaproxyParser parser(result.config, result.sources, result.diagnostics, options.env);
  bool parser_used = false;
  for (const auto& source : sources) {
    Format format =
        source.format == Format::kAuto ? detectFormat(source.name, source.text) : source.format;
    if (format == Format::kHaproxy) {
      parser.parse(source.text, source.name);
      parser_used = true;
    } else {
      // A structured document ends any open HAProxy section before its own proxies.
      if (parser_used) parser.finish();
      loadStructured(source.text, source.name, result.config, result.sources, result.diagnostics);
    }
  }
  parser.finish();
  normalize(result.config);
  validate(result.config, ValidateOptions{options.resolver, parser.unreadBinds()},
           result.diagnostics);
  result.diagnostics.locate(result.sources);
  return result;
}

LoadResult loadFiles(const std::vector<std::string>& paths, const LoadOptions& options) {
  std::vector<Source> sources;
  Diagnostics unreadable;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      unreadable.error(Location{path, 0}, "cannot open file: " + std::string(std::strerror(errno)));
      continue;
    }
    std::ostringstream text;
    text << in.rdbuf();
    sources.push_back({path, text.str(), Format::kAuto});
  }
  if (unreadable.hasErrors()) {
    LoadResult result;
    result.diagnostics = std::move(unreadable);
    return result;
  }
  return load(sources, options);
}

Diagnostics check(lb::v1::Config& config, const LoadOptions& options) {
  Diagnostics diag;
  normalize(config);
  validate(config, ValidateOptions{options.resolver, {}}, diag);
  return diag;
}

}  // namespace lb::config
