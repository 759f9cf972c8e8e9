#include "ctl/contexts.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent/config/suggest.h"

namespace lb::ctl {

namespace {

std::string expandHome(const std::string& path) {
  if (path.rfind("~/", 0) != 0) return path;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + path.substr(1);
}

std::string where(const std::string& path, const YAML::Node& node) {
  return path + ":" + std::to_string(node.Mark().line + 1);
}

std::string scalar(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value && value.IsScalar() ? value.as<std::string>() : "";
}

}  // namespace

const Context* ContextsFile::find(const std::string& name) const {
  for (const auto& context : contexts) {
    if (context.name == name) return &context;
  }
  return nullptr;
}

std::string ContextsFile::didYouMean(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& context : contexts) names.push_back(context.name);
  return config::didYouMean(name, names);
}

std::string contextsPath() {
  if (const char* env = std::getenv("LBCTL_CONFIG"); env != nullptr && *env != '\0') return env;
  return expandHome("~/.config/lbctl/config.yaml");
}

std::optional<ContextsFile> loadContexts(const std::string& path, std::string* error) {
  ContextsFile out;
  if (!std::filesystem::exists(path)) return out;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    *error = path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return std::nullopt;
  }
  if (root.IsNull()) return out;
  if (!root.IsMap()) {
    *error = path + ": expected 'current-context' and 'contexts'";
    return std::nullopt;
  }
  out.current = scalar(root, "current-context");
  const YAML::Node contexts = root["contexts"];
  if (!contexts) return out;
  if (!contexts.IsSequence()) {
    *error = where(path, contexts) + ": 'contexts' must be a list";
    return std::nullopt;
  }
  for (const auto& node : contexts) {
    Context context;
    context.name = scalar(node, "name");
    if (!node.IsMap() || context.name.empty()) {
      *error = where(path, node) + ": a context needs a 'name' (and 'agents')";
      return std::nullopt;
    }
    Credentials credentials;
    if (const YAML::Node tls = node["tls"]; tls && tls.IsMap()) {
      credentials.ca = expandHome(scalar(tls, "ca"));
      credentials.cert = expandHome(scalar(tls, "cert"));
      credentials.key = expandHome(scalar(tls, "key"));
    }
    credentials.token_file = expandHome(scalar(node, "token-file"));
    const YAML::Node agents = node["agents"];
    if (agents && !agents.IsSequence()) {
      *error = where(path, agents) + ": 'agents' must be a list of addresses";
      return std::nullopt;
    }
    for (const auto& agent : agents) {
      AgentTarget target;
      if (agent.IsScalar()) {
        target.address = agent.as<std::string>();
        target.name = target.address;
      } else if (agent.IsMap()) {
        target.address = scalar(agent, "address");
        target.name = scalar(agent, "name");
        if (target.name.empty()) target.name = target.address;
      }
      if (target.address.empty()) {
        *error = where(path, agent) +
                 ": an agent is an address (host:port or unix:PATH), or "
                 "'name' and 'address'";
        return std::nullopt;
      }
      target.credentials = credentials;
      context.agents.push_back(std::move(target));
    }
    out.contexts.push_back(std::move(context));
  }
  return out;
}

bool setCurrentContext(const std::string& path, const std::string& name, std::string* error) {
  // A line edit rather than a YAML round trip, so the file keeps its comments and layout.
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::vector<std::string> lines;
  bool replaced = false;
  for (std::string line; std::getline(in, line);) {
    if (!replaced && line.rfind("current-context:", 0) == 0) {
      line = "current-context: " + name;
      replaced = true;
    }
    lines.push_back(line);
  }
  if (!replaced) lines.insert(lines.begin(), "current-context: " + name);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::trunc);
    for (const auto& line : lines) file << line << "\n";
    if (!file) {
      *error = "cannot write " + temporary;
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    *error = "cannot replace " + path + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace lb::ctl
