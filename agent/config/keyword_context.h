#pragma once

// Internal to lb_config: the state a keyword handler of the HAProxy-syntax parser works on.
// The keyword tables live in proxy_keywords.cpp, global_keywords.cpp, server_keywords.cpp,
// check_keywords.cpp and ignored_keywords.cpp.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/diagnostics.h"
#include "agent/config/duration.h"
#include "agent/config/tokenizer.h"
#include "lb/v1/config.pb.h"

namespace lb::config::detail {

// Section capabilities, as HAProxy names them.
enum Cap : unsigned {
  kCapGlobal = 1,
  kCapDefaults = 2,
  kCapFrontend = 4,
  kCapBackend = 8,
  kCapProxy = kCapDefaults | kCapFrontend | kCapBackend,
};

// A frontend/backend/listen/defaults section being parsed. A `defaults` section fills both
// halves and then serves as the template new sections start from.
struct ProxyDraft {
  std::string kind;  // "defaults", "frontend", "backend" or "listen"
  std::string name;
  Location where;
  bool has_frontend = false;  // the section has the frontend capability (or is defaults)
  bool has_backend = false;
  lb::v1::Frontend frontend;
  lb::v1::Backend backend;
  lb::v1::Server default_server;
  // http-check / tcp-check rules were copied from defaults; the section's first own rule
  // replaces them (HAProxy uses defaults' rules only for proxies that have none).
  bool check_rules_inherited = false;
  // A `bind` line of the section failed to parse (reported already).
  bool bind_failed = false;
  // Where `option httplog` was set; HAProxy falls back to tcplog in TCP mode, with a warning.
  std::optional<Location> httplog_at;
  // Where fields were set, keyed "frontend:<path>" or "backend:<path>" (for the SourceMap).
  std::map<std::string, Location> marks;

  std::string describe() const { return kind + " '" + name + "'"; }
};

// What a handler sees for one line: its words (words[0] is the keyword), where it is, and the
// section it belongs to.
struct KeywordContext {
  const std::vector<std::string>& words;
  Location where;
  Diagnostics& diag;
  unsigned section_cap = 0;
  ProxyDraft* proxy = nullptr;       // set in defaults/frontend/backend/listen
  lb::v1::Global* global = nullptr;  // set in global
  const EnvLookup* env = nullptr;    // for the environment variables of addresses

  void error(std::string message) const { diag.error(where, std::move(message)); }
  void warning(std::string message) const { diag.warning(where, std::move(message)); }
  void markFrontend(const std::string& path) const { proxy->marks["frontend:" + path] = where; }
  void markBackend(const std::string& path) const { proxy->marks["backend:" + path] = where; }
  // "'balance' in backend 'web_test'"
  std::string keywordIn(std::string_view keyword) const;
  // Requires exactly `count` arguments after the keyword; reports an error otherwise.
  bool expectArgs(size_t count, std::string_view usage) const;

  // Parses a time argument, warning on a suspicious unitless value ("inter 4" is 4 ms).
  std::optional<google::protobuf::Duration> time(std::string_view keyword,
                                                 std::string_view text) const;
  // An address as HAProxy reads it: "$NAME" and "${NAME}" expanded (quoted or not). Reports
  // an address that expands to nothing and returns nullopt.
  std::optional<std::string> address(const std::string& text) const;

  // Parses an unsigned integer argument in [min, max].
  std::optional<uint32_t> number(std::string_view keyword, std::string_view text, uint32_t min,
                                 uint32_t max) const;
};

using Handler = void (*)(KeywordContext&);

// A `log ADDRESS [len N] [format F] FACILITY [LEVEL [MINLEVEL]]` line (log_keywords.cpp);
// nullopt after reporting what is wrong.
std::optional<lb::v1::LogTarget> parseLogTarget(KeywordContext& ctx);

struct KeywordSpec {
  std::string_view name;
  unsigned caps;
  Handler handle;
};

// `option NAME` / `no option NAME`; `negate` is true for the latter.
struct OptionSpec {
  std::string_view name;
  unsigned caps;
  void (*handle)(KeywordContext&, bool negate);
};

// A keyword HAProxy knows that does nothing for a TCP balancer: accepted with a warning.
struct IgnoredSpec {
  std::string_view name;
  unsigned caps;
  std::string_view reason;
};

std::span<const KeywordSpec> proxyKeywords();
// acl, tcp-request, tcp-response, use_backend, use-server, stick-table, stick (rule_keywords.cpp).
std::span<const KeywordSpec> ruleKeywords();
std::span<const KeywordSpec> globalKeywords();
std::span<const KeywordSpec> checkKeywords();
std::span<const OptionSpec> proxyOptions();
std::span<const OptionSpec> checkOptions();
std::span<const IgnoredSpec> ignoredKeywords();
std::span<const IgnoredSpec> ignoredOptions();

// `bind ADDRESS[,ADDRESS...] [options...]` (bind_keywords.cpp).
void parseBind(KeywordContext& ctx);

// `server NAME ADDRESS [settings...]` and `default-server [settings...]`.
void parseServer(KeywordContext& ctx);
void parseDefaultServer(KeywordContext& ctx);
void parseServerTemplate(KeywordContext& ctx);
// The server setting keywords, for did-you-mean suggestions.
std::vector<std::string> serverSettingNames();

}  // namespace lb::config::detail
