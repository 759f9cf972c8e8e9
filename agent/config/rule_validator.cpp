// Cross-references of the layer-4 rules: ACL names, use_backend and use-server targets, stick
// tables, and the proxies counter fetches name. Called by validate() (validator.cpp).
#include "agent/config/rule_validator.h"

#include <algorithm>

#include "agent/config/suggest.h"
#include "agent/rules/rule_set.h"

namespace lb::config {

namespace {

// Answers the rule compiler's lookups from the Config alone.
class NameBinder : public rules::Binder {
 public:
  NameBinder(const lb::v1::Config& config, std::string own)
      : config_(config), own_(std::move(own)) {}

  std::function<int64_t()> counter(std::string_view name, std::string_view arg,
                                   std::string& error) override {
    auto zero = [] { return int64_t{0}; };
    if (arg.empty()) return zero;
    std::vector<std::string> names;
    if (name == "srv_is_up" || name == "srv_conn") {
      auto slash = arg.find('/');
      std::string backend(arg.substr(0, slash));
      std::string server(arg.substr(slash + 1));
      for (const auto& be : config_.backends()) {
        if (be.name() != backend) continue;
        for (const auto& s : be.servers()) {
          if (s.name() == server) return zero;
          names.push_back(s.name());
        }
        error = "'" + std::string(name) + "(" + std::string(arg) + ")': backend '" + backend +
                "' has no server '" + server + "'" + didYouMean(server, names);
        return nullptr;
      }
      arg = backend;
    }
    if (name == "fe_conn") {
      for (const auto& fe : config_.frontends()) {
        if (fe.name() == arg) return zero;
        names.push_back(fe.name());
      }
      error = "'fe_conn(" + std::string(arg) + ")': no frontend of that name" +
              didYouMean(std::string(arg), names);
      return nullptr;
    }
    for (const auto& be : config_.backends()) {
      if (be.name() == arg) return zero;
      names.push_back(be.name());
    }
    error = "'" + std::string(name) + "(" + std::string(arg) + ")': no backend '" +
            std::string(arg) + "'" + didYouMean(std::string(arg), names);
    return nullptr;
  }

  std::shared_ptr<rules::StickTable> table(std::string_view name, std::string& error) override {
    std::string wanted = name.empty() ? own_ : std::string(name);
    std::vector<std::string> with_tables;
    auto found = [&](const lb::v1::StickTable& spec) {
      return std::make_shared<rules::StickTable>(wanted, spec);
    };
    for (const auto& be : config_.backends()) {
      if (be.has_stick_table()) {
        if (be.name() == wanted) return found(be.stick_table());
        with_tables.push_back(be.name());
      }
    }
    for (const auto& fe : config_.frontends()) {
      if (fe.has_stick_table()) {
        if (fe.name() == wanted) return found(fe.stick_table());
        with_tables.push_back(fe.name());
      }
    }
    if (name.empty()) {
      error = "'" + own_ + "' has no stick-table; declare one ('stick-table type ip size 100k " +
              "store conn_rate(10s)') or name a table with 'table NAME'";
    } else {
      error = "no stick-table named '" + wanted + "' (a table is named after its section)" +
              didYouMean(wanted, with_tables);
    }
    return nullptr;
  }

 private:
  const lb::v1::Config& config_;
  std::string own_;
};

// What the parser checks on a `stick-table` line, for tables that come from YAML or the API.
void checkTable(const lb::v1::StickTable& table, const std::string& path, Diagnostics& diag) {
  if (table.type() == lb::v1::StickTable::KEY_TYPE_UNSPECIFIED) {
    diag.errorAt(path + ".type", "stick-table needs a type: ip, ipv6, integer, string or binary");
  }
  if (table.size() == 0) diag.errorAt(path + ".size", "stick-table size must be at least 1");
  for (int i = 0; i < table.store_size(); ++i) {
    std::string_view rest = table.store(i);  // one item, or several separated by commas
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string error;
      if (!rules::parseStore(rest.substr(0, comma), error)) {
        diag.errorAt(path + ".store[" + std::to_string(i) + "]", "stick-table store: " + error);
        break;
      }
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
}

}  // namespace

void validateRules(const lb::v1::Config& config, Diagnostics& diag) {
  std::vector<std::string> backend_names;
  for (const auto& be : config.backends()) backend_names.push_back(be.name());
  for (int i = 0; i < config.frontends_size(); ++i) {
    const auto& fe = config.frontends(i);
    std::string path = "frontends[" + std::to_string(i) + "]";
    if (fe.has_stick_table()) checkTable(fe.stick_table(), path + ".stick_table", diag);
    NameBinder binder(config, fe.name());
    std::string where;
    std::string error;
    auto compiled = rules::compileRules(rules::rulesOf(fe), &binder, where, error);
    if (!compiled) {
      diag.errorAt(path + (where.empty() ? "" : "." + where),
                   "frontend '" + fe.name() + "': " + error);
      continue;
    }
    for (int j = 0; j < fe.use_backend_size(); ++j) {
      const std::string& name = fe.use_backend(j).backend();
      if (!compiled->use_backend[static_cast<size_t>(j)].format.empty()) continue;  // dynamic
      if (std::find(backend_names.begin(), backend_names.end(), name) == backend_names.end()) {
        diag.errorAt(path + ".use_backend[" + std::to_string(j) + "]",
                     "use_backend '" + name + "' of frontend '" + fe.name() + "' not found" +
                         didYouMean(name, backend_names));
      }
    }
  }
  for (int i = 0; i < config.backends_size(); ++i) {
    const auto& be = config.backends(i);
    std::string path = "backends[" + std::to_string(i) + "]";
    NameBinder binder(config, be.name());
    std::string where;
    std::string error;
    auto compiled = rules::compileRules(rules::rulesOf(be), &binder, where, error);
    if (!compiled) {
      diag.errorAt(path + (where.empty() ? "" : "." + where),
                   "backend '" + be.name() + "': " + error);
      continue;
    }
    std::vector<std::string> servers;
    for (const auto& s : be.servers()) servers.push_back(s.name());
    for (int j = 0; j < be.use_server_size(); ++j) {
      const std::string& name = be.use_server(j).server();
      if (std::find(servers.begin(), servers.end(), name) == servers.end()) {
        diag.errorAt(path + ".use_server[" + std::to_string(j) + "]",
                     "use-server '" + name + "' of backend '" + be.name() + "' not found" +
                         didYouMean(name, servers));
      }
    }
    if (be.has_stick_table()) checkTable(be.stick_table(), path + ".stick_table", diag);
  }
}

bool routesByRules(const lb::v1::Frontend& frontend) {
  return frontend.use_backend_size() > 0;
}

}  // namespace lb::config
