#pragma once
// lbctl's contexts file (kubectl's kubeconfig, smaller): named lists of agents with their TLS
// files and token, and which one is current.
//
//   current-context: prod
//   contexts:
//     - name: prod
//       agents:
//         - lb1.example:9901                 # a bare address: named by it
//         - {name: lb2, address: lb2.example:9901}
//       tls: {ca: /etc/lbctl/ca.crt, cert: /etc/lbctl/ops.crt, key: /etc/lbctl/ops.key}
//       token-file: ~/.config/lbctl/prod.token

#include <optional>
#include <string>
#include <vector>

#include "ctl/agents.h"

namespace lb::ctl {

struct Context {
  std::string name;
  std::vector<AgentTarget> agents;  // each with the context's credentials
};

struct ContextsFile {
  std::string current;
  std::vector<Context> contexts;

  const Context* find(const std::string& name) const;
  // "; did you mean 'prod'?" or "".
  std::string didYouMean(const std::string& name) const;
};

// $LBCTL_CONFIG, else ~/.config/lbctl/config.yaml.
std::string contextsPath();

// Reads the file; a file that does not exist is an empty one. nullopt with *error (naming the
// file and line) when it cannot be read or is not a contexts file.
std::optional<ContextsFile> loadContexts(const std::string& path, std::string* error);

// Sets current-context in the file, keeping the rest of it as written (comments too).
bool setCurrentContext(const std::string& path, const std::string& name, std::string* error);

}  // namespace lb::ctl
