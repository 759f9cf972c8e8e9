#include "ctl/cluster.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "agent/config/suggest.h"

namespace lb::ctl {

namespace {

namespace fs = std::filesystem;

std::string where(const std::string& path, const YAML::Node& node) {
  return path + ":" + std::to_string(node.Mark().line + 1);
}

std::string scalar(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value && value.IsScalar() ? value.as<std::string>() : "";
}

// A key this map may not have, named with a suggestion; "" when every key is known.
std::string unknownKey(const std::string& path, const YAML::Node& node,
                       const std::vector<std::string>& known, const std::string& what) {
  for (const auto& entry : node) {
    auto key = entry.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return where(path, entry.first) + ": unknown key '" + key + "' in " + what +
             config::didYouMean(key, known);
    }
  }
  return "";
}

// A key of `keys` whose value is not a plain string (a list, a map); "" when none.
std::string notText(const std::string& path, const YAML::Node& node,
                    const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    const YAML::Node value = node[key];
    if (value && !value.IsScalar()) {
      return where(path, value) + ": '" + key + "' must be a single value, not a list or a map";
    }
  }
  return "";
}

// Relative paths are the cluster file's.
std::string relativeTo(const std::string& cluster_path, const std::string& file) {
  if (file.empty() || file.front() == '/') return file;
  if (file.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr ? home : "") + file.substr(1);
  }
  return (fs::path(cluster_path).parent_path() / file).lexically_normal().string();
}

// "host:port" / "[v6]:port" -> host; "" for unix: addresses.
std::string hostOf(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) return "";
  auto colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

std::string joinHostPort(const std::string& host, uint32_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Inserts `lines` at the end of section `backend NAME` of an HAProxy-syntax text (before the
// next section, or at the end). False when there is no such section line.
bool fillBackend(std::string* text, const std::string& backend, const std::string& lines) {
  std::regex header("^\\s*backend\\s+" +
                    std::regex_replace(backend, std::regex("[.^$|()\\[\\]{}*+?\\\\]"), "\\$&") +
                    "(\\s+from\\s+\\S+)?\\s*(#.*)?$");
  std::regex section(
      "^\\s*(global|defaults|frontend|backend|listen|resolvers|peers|userlist|program|"
      "http-errors|ring|cache|mailers)(\\s|$)");
  std::istringstream in(*text);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  size_t start = all.size();
  for (size_t i = 0; i < all.size(); ++i) {
    if (std::regex_search(all[i], header)) {
      start = i;
      break;
    }
  }
  if (start == all.size()) return false;
  size_t end = start + 1;
  while (end < all.size() && !std::regex_search(all[end], section)) ++end;
  // Before the blank lines and comments that end the section, if any.
  while (end > start + 1) {
    const std::string& previous = all[end - 1];
    auto first = previous.find_first_not_of(" \t");
    if (first != std::string::npos && previous[first] != '#') break;
    --end;
  }
  std::string out;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i == end) out += lines;
    out += all[i] + "\n";
  }
  if (end == all.size()) out += lines;
  *text = out;
  return true;
}

}  // namespace

bool Cluster::find(const std::string& name, size_t* tier, size_t* agent) const {
  for (size_t t = 0; t < tiers.size(); ++t) {
    for (size_t a = 0; a < tiers[t].agents.size(); ++a) {
      if (tiers[t].agents[a].target.name == name) {
        *tier = t;
        *agent = a;
        return true;
      }
    }
  }
  return false;
}

std::vector<std::string> Cluster::agentNames() const {
  std::vector<std::string> names;
  for (const auto& tier : tiers) {
    for (const auto& agent : tier.agents) names.push_back(agent.target.name);
  }
  return names;
}

namespace {

std::optional<Cluster> readCluster(const std::string& path, std::string* error) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    *error = path + ": cannot read the cluster file";
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    *error = path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return std::nullopt;
  }
  Cluster cluster;
  cluster.path = path;
  if (!root.IsMap() || !root["tiers"] || !root["tiers"].IsSequence() || root["tiers"].size() == 0) {
    *error = path + ": expected 'tiers:', a list of tiers from the edge to the origin";
    return std::nullopt;
  }
  if (auto bad = unknownKey(path, root, {"tiers"}, "the cluster file"); !bad.empty()) {
    *error = bad;
    return std::nullopt;
  }
  std::set<std::string> agent_names, tier_names;
  for (const auto& node : root["tiers"]) {
    Tier tier;
    if (node.IsMap()) tier.name = scalar(node, "name");
    if (!node.IsMap() || tier.name.empty()) {
      *error = where(path, node) + ": a tier needs a 'name', its 'agents' and a 'config'";
      return std::nullopt;
    }
    if (auto bad =
            unknownKey(path, node, {"name", "config", "agents", "upstream", "tls", "token-file"},
                       "tier '" + tier.name + "'");
        !bad.empty()) {
      *error = bad;
      return std::nullopt;
    }
    if (auto bad = notText(path, node, {"name", "config", "token-file"}); !bad.empty()) {
      *error = bad;
      return std::nullopt;
    }
    if (!tier_names.insert(tier.name).second) {
      *error = where(path, node) + ": tier '" + tier.name + "' is named twice";
      return std::nullopt;
    }
    std::string tier_config = relativeTo(path, scalar(node, "config"));
    Credentials credentials;
    if (const YAML::Node tls = node["tls"]; tls) {
      std::string bad = tls.IsMap()
                            ? unknownKey(path, tls, {"ca", "cert", "key"}, "'tls'")
                            : where(path, tls) + ": 'tls' is {ca: FILE, cert: FILE, key: FILE}";
      if (bad.empty()) bad = notText(path, tls, {"ca", "cert", "key"});
      if (!bad.empty()) {
        *error = bad;
        return std::nullopt;
      }
      credentials.ca = relativeTo(path, scalar(tls, "ca"));
      credentials.cert = relativeTo(path, scalar(tls, "cert"));
      credentials.key = relativeTo(path, scalar(tls, "key"));
    }
    credentials.token_file = relativeTo(path, scalar(node, "token-file"));
    const YAML::Node agents = node["agents"];
    if (!agents || !agents.IsSequence() || agents.size() == 0) {
      *error = where(path, node) + ": tier '" + tier.name +
               "' needs 'agents': a list of {name, address}";
      return std::nullopt;
    }
    for (const auto& a : agents) {
      ClusterAgent agent;
      if (a.IsMap()) {
        std::string bad = unknownKey(path, a, {"name", "address", "traffic", "http", "config"},
                                     "an agent of tier '" + tier.name + "'");
        if (bad.empty()) bad = notText(path, a, {"name", "address", "traffic", "http", "config"});
        if (!bad.empty()) {
          *error = bad;
          return std::nullopt;
        }
        agent.target.name = scalar(a, "name");
        agent.target.address = scalar(a, "address");
        agent.traffic = scalar(a, "traffic");
        agent.http = scalar(a, "http");
        agent.config = relativeTo(path, scalar(a, "config"));
      }
      if (agent.target.name.empty() || agent.target.address.empty()) {
        *error = where(path, a) + ": an agent is {name: NAME, address: HOST:PORT}";
        return std::nullopt;
      }
      if (!agent_names.insert(agent.target.name).second) {
        *error = where(path, a) + ": agent '" + agent.target.name +
                 "' is named twice (names are the cluster's, and the tier above's server names)";
        return std::nullopt;
      }
      if (agent.config.empty()) agent.config = tier_config;
      if (agent.config.empty()) {
        *error = where(path, a) + ": agent '" + agent.target.name +
                 "' has no configuration: give the tier a 'config' (or the agent one)";
        return std::nullopt;
      }
      agent.target.credentials = credentials;
      tier.agents.push_back(std::move(agent));
    }
    if (const YAML::Node up = node["upstream"]; up) {
      Upstream upstream;
      if (up.IsMap()) {
        if (auto bad =
                unknownKey(path, up, {"backend", "frontend", "server-options"}, "'upstream'");
            !bad.empty()) {
          *error = bad;
          return std::nullopt;
        }
        upstream.backend = scalar(up, "backend");
        upstream.frontend = scalar(up, "frontend");
        if (up["server-options"]) upstream.server_options = scalar(up, "server-options");
      }
      if (upstream.backend.empty() || upstream.frontend.empty()) {
        *error = where(path, up) +
                 ": 'upstream' is {backend: NAME, frontend: NAME}: this tier's backend to fill "
                 "with the next tier's agents, and the next tier's frontend they serve";
        return std::nullopt;
      }
      tier.upstream = upstream;
    }
    cluster.tiers.push_back(std::move(tier));
  }
  if (cluster.tiers.back().upstream) {
    *error = path + ": the last tier ('" + cluster.tiers.back().name +
             "') has 'upstream' but there is no tier below it";
    return std::nullopt;
  }
  return cluster;
}

}  // namespace

std::optional<Cluster> loadCluster(const std::string& path, std::string* error) {
  try {
    return readCluster(path, error);
  } catch (const YAML::Exception& e) {
    // A shape the checks above did not foresee: still an error with a line, never a crash.
    *error = path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return std::nullopt;
  }
}

std::optional<std::vector<std::vector<AgentPlan>>> planCluster(const Cluster& cluster,
                                                               std::vector<std::string>* errors) {
  // Each file is read and checked once, however many agents run it.
  struct File {
    std::string text;
    config::LoadResult loaded;
    bool ok = false;
  };
  std::map<std::string, File> files;
  auto fileOf = [&](const std::string& path) -> File& {
    auto [it, inserted] = files.try_emplace(path);
    if (!inserted) return it->second;
    auto text = readFile(path);
    if (!text) {
      errors->push_back(path + ": cannot read this configuration file");
      return it->second;
    }
    it->second.text = *text;
    it->second.loaded = config::load({{path, *text, config::Format::kAuto}}, {});
    for (const auto& d : it->second.loaded.diagnostics.all()) {
      if (d.severity == config::Severity::kError) errors->push_back(d.toString());
    }
    it->second.ok = it->second.loaded.ok();
    return it->second;
  };
  std::vector<std::vector<AgentPlan>> plan(cluster.tiers.size());
  for (size_t t = 0; t < cluster.tiers.size(); ++t) {
    for (const auto& agent : cluster.tiers[t].agents) {
      File& file = fileOf(agent.config);
      AgentPlan p;
      p.source = {agent.config, file.text, config::Format::kAuto};
      p.traffic = agent.traffic;
      p.http = agent.http;
      plan[t].push_back(std::move(p));
    }
  }
  if (!errors->empty()) return std::nullopt;
  // Where each agent below an upstream is reached: its frontend's bind, on the agent's host.
  for (size_t t = 0; t + 1 < cluster.tiers.size(); ++t) {
    const auto& upstream = cluster.tiers[t].upstream;
    if (!upstream) continue;
    const Tier& below = cluster.tiers[t + 1];
    for (size_t a = 0; a < below.agents.size(); ++a) {
      const ClusterAgent& agent = below.agents[a];
      AgentPlan& p = plan[t + 1][a];
      const auto& config = files[agent.config].loaded.config;
      const lb::v1::Frontend* frontend = nullptr;
      std::vector<std::string> names;
      for (const auto& fe : config.frontends()) {
        names.push_back(fe.name());
        if (fe.name() == upstream->frontend) frontend = &fe;
      }
      std::string who =
          "tier '" + below.name + "', agent '" + agent.target.name + "' (" + agent.config + ")";
      if (frontend == nullptr || frontend->binds_size() == 0) {
        errors->push_back(who + ": no frontend '" + upstream->frontend + "' with a bind" +
                          config::didYouMean(upstream->frontend, names) + " (tier '" +
                          cluster.tiers[t].name + "' sends to it)");
        continue;
      }
      // The tier above sends to the first bind: that one must expect the header.
      const auto& bind = frontend->binds(0);
      if (!bind.accept_proxy()) {
        errors->push_back(who + ": frontend '" + frontend->name() +
                          "' needs 'accept-proxy' on its (first) bind: tier '" +
                          cluster.tiers[t].name + "' sends the client's address with PROXY v2");
      }
      std::string host = bind.address();
      if (host.empty() || host == "0.0.0.0" || host == "::") host = hostOf(agent.target.address);
      if (p.traffic.empty()) {
        if (host.empty()) {
          errors->push_back(who +
                            ": its API address is a UNIX socket: give it 'traffic: HOST:PORT'");
          continue;
        }
        p.traffic = joinHostPort(host, bind.port());
      }
      if (p.http.empty()) p.http = joinHostPort(hostOf(p.traffic), 9902);
    }
  }
  if (!errors->empty()) return std::nullopt;
  // The tiers above get their servers.
  for (size_t t = 0; t + 1 < cluster.tiers.size(); ++t) {
    const auto& upstream = cluster.tiers[t].upstream;
    if (!upstream) continue;
    const Tier& tier = cluster.tiers[t];
    const Tier& below = cluster.tiers[t + 1];
    for (size_t a = 0; a < tier.agents.size(); ++a) {
      AgentPlan& p = plan[t][a];
      const auto& config = files[tier.agents[a].config].loaded.config;
      const lb::v1::Backend* backend = nullptr;
      std::vector<std::string> names;
      for (const auto& be : config.backends()) {
        names.push_back(be.name());
        if (be.name() == upstream->backend) backend = &be;
      }
      std::string file = tier.agents[a].config;
      if (backend == nullptr) {
        errors->push_back(file + ": no backend '" + upstream->backend + "' to fill with tier '" +
                          below.name + "'" + config::didYouMean(upstream->backend, names));
        continue;
      }
      if (backend->servers_size() > 0) {
        errors->push_back(file + ": backend '" + backend->name() +
                          "' has server lines: leave it without servers, lbctl cluster fills it "
                          "with the agents of tier '" +
                          below.name + "'");
        continue;
      }
      std::string lines =
          "    # filled by lbctl cluster: the agents of tier '" + below.name + "'\n";
      auto type = backend->health_check().type();
      if (type == lb::v1::HealthCheck::TYPE_UNSPECIFIED || type == lb::v1::HealthCheck::TCP) {
        lines += "    option httpchk GET /healthz/frontend/" + upstream->frontend + "\n";
      }
      for (size_t b = 0; b < below.agents.size(); ++b) {
        const AgentPlan& inner = plan[t + 1][b];
        std::string http_host = hostOf(inner.http);
        std::string http_port = inner.http.substr(inner.http.rfind(':') + 1);
        lines += "    server " + below.agents[b].target.name + " " + inner.traffic +
                 " send-proxy-v2 check port " + http_port;
        if (http_host != hostOf(inner.traffic)) lines += " addr " + http_host;
        if (!upstream->server_options.empty()) lines += " " + upstream->server_options;
        lines += "\n";
      }
      if (!fillBackend(&p.source.text, upstream->backend, lines)) {
        errors->push_back(file + ": cannot find the line 'backend " + upstream->backend +
                          "' to fill (is it in HAProxy syntax?)");
        continue;
      }
      auto filled = config::load({p.source}, {});
      for (const auto& d : filled.diagnostics.all()) {
        if (d.severity == config::Severity::kError) {
          errors->push_back(d.toString() + " (in the servers filled from tier '" + below.name +
                            "')");
        }
      }
    }
  }
  if (!errors->empty()) return std::nullopt;
  return plan;
}

}  // namespace lb::ctl
