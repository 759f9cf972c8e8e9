#include "agent/control/runtime_commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "agent/config/suggest.h"
#include "agent/control/runtime_stat.h"

#ifndef LB_VERSION
#define LB_VERSION "dev"
#endif

namespace lb::control {

namespace {

// The commands lb serves, in HAProxy's help layout: usage padded to 40 columns, ": ", what.
struct HelpLine {
  const char* usage;
  const char* what;
  CliLevel level;  // the lowest level that may run it
};

constexpr HelpLine kHelp[] = {
    {"clear counters [all]", "clear max statistics counters (or all counters)",
     CliLevel::kOperator},
    {"disable server <bk>/<srv>", "set a server in maintenance (use 'set server' instead)",
     CliLevel::kAdmin},
    {"enable server <bk>/<srv>", "take a server out of maintenance (use 'set server' instead)",
     CliLevel::kAdmin},
    {"get weight <bk>/<srv>", "report a server's current weight", CliLevel::kUser},
    {"help [<command>]", "list matching or all commands", CliLevel::kUser},
    {"operator", "lower the level of the current CLI session to operator", CliLevel::kUser},
    {"set server <bk>/<srv> state|weight", "change a server's state or weight", CliLevel::kAdmin},
    {"set timeout cli <delay>", "change this session's idle timeout (seconds)", CliLevel::kUser},
    {"set weight <bk>/<srv> <w>[%]", "change a server's weight (use 'set server' instead)",
     CliLevel::kAdmin},
    {"show backend", "list backends in the current running config", CliLevel::kUser},
    {"show cli level", "display the level of the current CLI session", CliLevel::kUser},
    {"show errors", "report captured protocol errors (lb captures none)", CliLevel::kOperator},
    {"show events", "show lb's last events (states, checks, applies)", CliLevel::kUser},
    {"show info", "report information about the running process", CliLevel::kUser},
    {"show servers state [<backend>]", "dump volatile server information (all or one backend)",
     CliLevel::kUser},
    {"show sess", "report the number of current sessions per frontend", CliLevel::kOperator},
    {"show stat [<iid> <type> <sid>]", "report counters for each proxy and server (CSV)",
     CliLevel::kUser},
    {"show table [<table>]", "report table usage stats or dump this table's contents",
     CliLevel::kOperator},
    {"clear table <table> [key <k>]", "remove entries from a stick table", CliLevel::kOperator},
    {"show version", "show version of the current process", CliLevel::kUser},
    {"user", "lower the level of the current CLI session to user", CliLevel::kUser},
    {"prompt", "toggle interactive mode with prompt", CliLevel::kUser},
    {"quit", "disconnect", CliLevel::kUser},
};

constexpr const char* kPermissionDenied = "Permission denied\n";
constexpr const char* kRequireTarget = "Require 'backend/server'.\n";

std::string helpLine(const HelpLine& line) {
  return fmt::format("  {:<40}: {}\n", line.usage, line.what);
}

// HAProxy's weight argument: "N" (0..256) or "N%" of the initial weight. nullopt with the
// message HAProxy gives.
std::optional<uint32_t> parseWeight(const std::string& text, uint32_t initial, std::string* error) {
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || end == text.c_str()) {
    // HAProxy's own words, with their missing newline.
    *error = "Empty weight string empty or preceded by garbage";
    return std::nullopt;
  }
  if (*end == '%') {
    if (value < 0) {
      *error = "Relative weight must be positive.\n";
      return std::nullopt;
    }
    uint64_t weight = static_cast<uint64_t>(initial) * static_cast<uint64_t>(value) / 100;
    return static_cast<uint32_t>(std::min<uint64_t>(weight, 256));
  }
  if (value < 0 || value > 256) {
    *error = "Absolute weight can only be between 0 and 256 inclusive.\n";
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

bool starts(const std::vector<std::string>& words, std::initializer_list<const char*> prefix) {
  if (words.size() < prefix.size()) return false;
  size_t i = 0;
  for (const char* p : prefix) {
    if (words[i++] != p) return false;
  }
  return true;
}

}  // namespace

const char* toString(CliLevel level) {
  switch (level) {
    case CliLevel::kUser:
      return "user";
    case CliLevel::kOperator:
      return "operator";
    case CliLevel::kAdmin:
      return "admin";
  }
  return "?";
}

std::string RuntimeCommands::help(const std::string& title) const {
  std::string out = title;
  for (const auto& line : kHelp) out += helpLine(line);
  return out;
}

std::string RuntimeCommands::unknown(const std::vector<std::string>& words) const {
  // HAProxy suggests the commands that share the first word (or all of them).
  std::string out = "Unknown command, but maybe one of the following ones is a better match:\n";
  bool any = false;
  for (const auto& line : kHelp) {
    std::string usage = line.usage;
    if (usage.substr(0, usage.find(' ')) == words[0] && usage != "prompt" && usage != "quit" &&
        usage.rfind("help", 0) != 0) {
      out += helpLine(line);
      any = true;
    }
  }
  if (!any) {
    std::vector<std::string> verbs;
    for (const auto& line : kHelp) {
      std::string usage = line.usage;
      verbs.push_back(usage.substr(0, usage.find(' ')));
    }
    std::string suggestion = config::didYouMean(words[0], verbs);
    for (const auto& line : kHelp) {
      std::string usage = line.usage;
      std::string verb = usage.substr(0, usage.find(' '));
      if (!suggestion.empty() && suggestion.find("'" + verb + "'") != std::string::npos &&
          verb != "prompt" && verb != "quit" && verb != "help") {
        out += helpLine(line);
      }
    }
  }
  for (const auto& line : kHelp) {
    std::string usage = line.usage;
    if (usage.rfind("help", 0) == 0 || usage == "prompt" || usage == "quit") out += helpLine(line);
  }
  return out;
}

std::string RuntimeCommands::run(const std::vector<std::string>& words, CliSession& session) {
  if (words.empty()) {
    return help("Unknown command. Please enter one of the following commands only:\n");
  }
  // The lowest level each command needs, checked before anything else (as HAProxy does).
  auto needs = [&](CliLevel level) { return session.level >= level; };
  const std::string& verb = words[0];
  if (verb == "quit") {
    session.quit = true;
    return "";
  }
  if (verb == "prompt") {
    session.prompt = !session.prompt;
    return "";
  }
  if (verb == "help") return help("The following commands are valid at this level:\n");
  if (verb == "operator" || verb == "user") {
    CliLevel wanted = verb == "user" ? CliLevel::kUser : CliLevel::kOperator;
    if (wanted > session.level) return kPermissionDenied;
    session.level = wanted;
    return "";
  }
  if (starts(words, {"set", "timeout", "cli"})) {
    if (words.size() < 4) return "Expects an integer value.\n";
    char* end = nullptr;
    long seconds = std::strtol(words[3].c_str(), &end, 10);
    if (*end != '\0' || seconds <= 0) return "Expects an integer value.\n";
    session.timeout = std::chrono::seconds(std::min(seconds, 86400L * 365));
    return "";
  }
  if (starts(words, {"show", "info"})) return showInfo();
  if (starts(words, {"show", "stat"})) return showStat(words);
  if (starts(words, {"show", "servers", "state"})) return showServersState(words);
  if (starts(words, {"show", "backend"})) return showBackend();
  if (starts(words, {"show", "version"})) return std::string(LB_VERSION) + "\n";
  if (starts(words, {"show", "cli", "level"})) return std::string(toString(session.level)) + "\n";
  if (starts(words, {"show", "events"})) return showEvents();
  if (starts(words, {"show", "sess"}))
    return needs(CliLevel::kOperator) ? showSess() : kPermissionDenied;
  if (starts(words, {"show", "errors"})) {
    if (!needs(CliLevel::kOperator)) return kPermissionDenied;
    return "Total events captured on [" + cliDate(std::chrono::system_clock::now()) + "] : 0\n";
  }
  if (starts(words, {"show", "table"}) || starts(words, {"clear", "table"})) {
    if (!needs(CliLevel::kOperator)) return kPermissionDenied;
    return table(words);
  }
  if (starts(words, {"get", "weight"})) return getWeight(words);
  if (starts(words, {"clear", "counters"})) {
    bool all = words.size() > 2 && words[2] == "all";
    if (!needs(all ? CliLevel::kAdmin : CliLevel::kOperator)) return kPermissionDenied;
    return clearCounters(all);
  }
  if (starts(words, {"set", "weight"})) {
    if (!needs(CliLevel::kAdmin)) return kPermissionDenied;
    if (words.size() < 3) return kRequireTarget;
    if (words.size() < 4) return "Require <weight> or <weight%>.\n";
    return setWeight(words[2], words[3], session);
  }
  if (starts(words, {"set", "server"})) {
    if (!needs(CliLevel::kAdmin)) return kPermissionDenied;
    if (words.size() < 3) return kRequireTarget;
    if (words.size() < 4) {
      return "usage: set server <backend>/<server> state | weight (lb serves these two; change "
             "addresses, checks and agents in the configuration)\n";
    }
    const std::string& what = words[3];
    if (what == "state") {
      return setState(words[2], words.size() > 4 ? words[4] : "", session);
    }
    if (what == "weight") {
      if (words.size() < 5) return "Require <weight> or <weight%>.\n";
      return setWeight(words[2], words[4], session);
    }
    std::string error;
    if (!find(words[2], &error)) return error;
    return "'set server ... " + what +
           "' is not supported by lb: change it in the configuration and apply it (lbctl "
           "apply); 'state' and 'weight' are served here\n";
  }
  if (starts(words, {"disable", "server"}) || starts(words, {"enable", "server"})) {
    if (!needs(CliLevel::kAdmin)) return kPermissionDenied;
    if (words.size() < 3) return kRequireTarget;
    return enableServer(words[2], verb == "enable", session);
  }
  if (starts(words, {"set", "maxconn", "server"})) {
    if (!needs(CliLevel::kAdmin)) return kPermissionDenied;
    if (words.size() < 4) return kRequireTarget;
    std::string error;
    if (!find(words[3], &error)) return error;
    return "'set maxconn server' is not supported by lb: change the server's maxconn in the "
           "configuration and apply it (lbctl apply); no connection is dropped\n";
  }
  if ((verb == "enable" || verb == "disable") && words.size() > 1 &&
      (words[1] == "health" || words[1] == "agent" || words[1] == "frontend")) {
    if (!needs(CliLevel::kAdmin)) return kPermissionDenied;
    return "'" + verb + " " + words[1] +
           "' is not supported by lb: change the configuration and apply it (lbctl apply)\n";
  }
  return unknown(words);
}

std::optional<RuntimeCommands::Target> RuntimeCommands::find(const std::string& target,
                                                             std::string* error) const {
  auto slash = target.find('/');
  if (slash == std::string::npos) {
    *error = kRequireTarget;
    return std::nullopt;
  }
  const auto& runtime = control_.runtime();
  const runtime::BackendRuntime* backend =
      runtime ? runtime->findBackend(target.substr(0, slash)) : nullptr;
  if (backend == nullptr) {
    *error = "No such backend.\n";
    return std::nullopt;
  }
  for (const auto& server : backend->servers) {
    if (server.name == target.substr(slash + 1)) return Target{backend, &server};
  }
  *error = "No such server.\n";
  return std::nullopt;
}

std::string RuntimeCommands::getWeight(const std::vector<std::string>& words) const {
  if (words.size() < 3) return kRequireTarget;
  std::string error;
  auto target = find(words[2], &error);
  if (!target) return error;
  uint32_t current = target->server->weight;
  auto change = control_.serverChanges().find({target->backend->name, target->server->name});
  if (change != control_.serverChanges().end() && change->second.weight) {
    current = *change->second.weight;
  }
  return fmt::format("{} (initial {})\n", current, target->server->weight);
}

std::string RuntimeCommands::setWeight(const std::string& text, const std::string& value,
                                       const CliSession& session) {
  std::string error;
  auto target = find(text, &error);
  if (!target) return error;
  auto weight = parseWeight(value, target->server->weight, &error);
  if (!weight) return error;
  ServerChange change;
  change.weight = *weight;
  change.origin = session.origin;
  auto result = control_.changeServer(target->backend->name, target->server->name, change);
  return result.code == ServerChangeResult::Code::kOk ? "" : result.message + "\n";
}

std::string RuntimeCommands::setState(const std::string& text, const std::string& state,
                                      const CliSession& session) {
  std::string error;
  auto target = find(text, &error);
  if (!target) return error;
  ServerChange change;
  if (state == "ready") {
    change.admin = runtime::AdminState::kReady;
  } else if (state == "drain") {
    change.admin = runtime::AdminState::kDrain;
  } else if (state == "maint") {
    change.admin = runtime::AdminState::kMaint;
  } else {
    return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n";
  }
  change.origin = session.origin;
  auto result = control_.changeServer(target->backend->name, target->server->name, change);
  return result.code == ServerChangeResult::Code::kOk ? "" : result.message + "\n";
}

std::string RuntimeCommands::enableServer(const std::string& text, bool enable,
                                          const CliSession& session) {
  std::string error;
  auto target = find(text, &error);
  if (!target) return error;
  // As HAProxy: `disable` puts the server in maintenance; `enable` only takes it out of
  // maintenance (a drain set otherwise stays).
  runtime::AdminState now = target->server->state->admin.load();
  if (enable && now != runtime::AdminState::kMaint) return "";
  ServerChange change;
  change.admin = enable ? runtime::AdminState::kReady : runtime::AdminState::kMaint;
  change.origin = session.origin;
  auto result = control_.changeServer(target->backend->name, target->server->name, change);
  return result.code == ServerChangeResult::Code::kOk ? "" : result.message + "\n";
}

std::string RuntimeCommands::clearCounters(bool all) {
  // lb keeps no maximum counters: plain `clear counters` has nothing to clear.
  if (!all) return "";
  const auto& runtime = control_.runtime();
  if (!runtime) return "";
  for (const auto& fe : runtime->frontends) {
    fe.state->total = 0;
    fe.state->rejected = 0;
    fe.state->bad_proxy_headers = 0;
  }
  for (const auto& be : runtime->backends) {
    be->state->total = 0;
    be->state->no_server = 0;
    for (const auto& server : be->servers) {
      auto& s = *server.state;
      s.total = 0;
      s.connect_errors = 0;
      s.retries = 0;
      s.redispatches = 0;
      s.bytes_in = 0;
      s.bytes_out = 0;
      s.failed_checks = 0;
      s.down_transitions = 0;
    }
  }
  return "";
}

std::string RuntimeCommands::table(const std::vector<std::string>& words) const {
  const auto& runtime = control_.runtime();
  if (!runtime) return "";
  bool clear = words[0] == "clear";
  if (words.size() < 3) {
    if (clear) return "Optional table name expected\n";
    std::string out;
    for (const auto& table : runtime->tables) out += table->header();
    return out;
  }
  for (const auto& table : runtime->tables) {
    if (table->name() != words[2]) continue;
    if (clear) {
      std::optional<std::string> key;
      if (words.size() >= 5 && words[3] == "key") {
        key = table->keyOf(rules::Sample::text(words[4]));
        if (!key) return "Unable to parse key '" + words[4] + "'.\n";
      } else if (words.size() > 3) {
        return "Optional argument only supports \"key\"\n";
      }
      table->clear(key);
      return "";
    }
    std::string out = table->header();
    for (const auto& line : table->dump(std::chrono::steady_clock::now())) out += line + "\n";
    return out;
  }
  return "Unknown table\n";
}

std::string RuntimeCommands::showBackend() const {
  std::string out = "# name\n";
  if (const auto& runtime = control_.runtime()) {
    for (const auto& be : runtime->backends) out += be->name + "\n";
  }
  return out;
}

std::string RuntimeCommands::showSess() const {
  // lb does not keep a list of its sessions; the counts are what it can say.
  auto status = buildStatus(control_, identity_, "");
  std::string out = fmt::format("# lb lists no single sessions; {} current in all\n",
                                status.agent().current_connections());
  for (const auto& fe : status.frontends()) {
    out += fmt::format("frontend {}: {} current\n", fe.name(), fe.current_connections());
  }
  return out;
}

std::string RuntimeCommands::showEvents() const {
  auto slice = control_.events().since(0);
  std::string out;
  size_t first = slice.events.size() > 100 ? slice.events.size() - 100 : 0;
  for (size_t i = first; i < slice.events.size(); ++i) {
    const auto& e = slice.events[i];
    std::string type = lb::v1::Event::Type_Name(e.type());
    std::string text = e.message();
    if (text.empty()) {
      text = e.backend() + "/" + e.server() + " " + e.old_state() + " -> " + e.new_state();
    }
    out += fmt::format("{} {} {} {}\n", e.sequence(), cliDate(eventTime(e)), type, text);
  }
  return out;
}

std::string RuntimeCommands::showInfo() const {
  return formatShowInfo(control_, identity_);
}

std::string RuntimeCommands::showStat(const std::vector<std::string>& words) const {
  return formatShowStat(control_, identity_, words);
}

std::string RuntimeCommands::showServersState(const std::vector<std::string>& words) const {
  return formatServersState(control_, words.size() > 3 ? words[3] : "");
}

}  // namespace lb::control
