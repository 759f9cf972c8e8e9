// lbctl cluster: tiers of agents declared once in a cluster file (ctl/cluster.h). apply rolls a
// change out from the innermost tier to the edge, waiting for each tier to be healthy, and rolls
// back what it changed when a tier fails; status draws the tree edge -> inner -> servers; events
// merges every agent's stream labelled tier/agent; drain and ready take an agent out of (or back
// into) every tier above it.
#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "agent/config/suggest.h"
#include "ctl/cluster.h"
#include "ctl/commands.h"
#include "ctl/output.h"

namespace lb::ctl {

namespace {

using Clock = std::chrono::steady_clock;
using lb::v1::ServerStatus;

struct ClusterFlags {
  std::string file;
  bool dry_run = false;
  std::string wait_timeout = "60s";
  bool wait = false;
  std::string agent;
  std::string output = "tree";
  EventsFlags events;
};

// The cluster file, read and checked; nullopt after saying why not.
std::optional<Cluster> clusterOrSay(const ClusterFlags& flags) {
  std::string error;
  auto cluster = loadCluster(flags.file, &error);
  if (!cluster) std::cerr << "lbctl cluster: " << error << "\n";
  return cluster;
}

// Every tier's agents, connected, in the cluster's order.
std::vector<std::vector<AgentConnection>> connectTiers(const Cluster& cluster, Millis timeout) {
  std::vector<std::vector<AgentConnection>> tiers;
  for (const auto& tier : cluster.tiers) {
    std::vector<AgentTarget> targets;
    for (const auto& agent : tier.agents) targets.push_back(agent.target);
    tiers.push_back(connect(targets, timeout));
  }
  return tiers;
}

std::optional<Millis> durationOrSay(const std::string& flag, const std::string& text) {
  std::string error;
  auto value = parseDuration(text, &error);
  if (!value) std::cerr << "lbctl cluster: " << flag << ": " << error << "\n";
  return value;
}

bool checkPassed(const ServerStatus& s) {
  if (!s.check_enabled()) return true;
  const std::string& status = s.last_check().status();
  return status.ends_with("OK") || status.ends_with("OKC");
}

// Why an agent is not yet ready for the tier above ("" when it is): the new version in force,
// and every enabled frontend's backend with a server that is usable and passed its last check.
std::string notReady(const lb::v1::GetStatusResponse& status, uint64_t version) {
  if (status.agent().config_version() < version) {
    return "version " + std::to_string(status.agent().config_version()) +
           " in force, waiting for " + std::to_string(version);
  }
  for (const auto& fe : status.frontends()) {
    if (fe.disabled() || fe.default_backend().empty()) continue;
    for (const auto& be : status.backends()) {
      if (be.name() != fe.default_backend()) continue;
      bool ready = false;
      for (const auto& s : be.servers()) {
        ready = ready || (s.op_state() == ServerStatus::UP &&
                          s.admin_state() == ServerStatus::READY && checkPassed(s));
      }
      if (!ready) {
        return "frontend " + fe.name() + ": no server of backend " + be.name() +
               " is up with a passed check (" + std::to_string(be.usable_servers()) + " of " +
               std::to_string(be.total_servers()) + " usable)";
      }
    }
  }
  return "";
}

lb::v1::ApplyConfigRequest requestFor(const config::Source& source, bool dry_run) {
  lb::v1::ApplyConfigRequest request;
  auto* file = request.mutable_sources()->add_files();
  file->set_name(source.name);
  file->set_content(source.text);
  file->set_format(config::formatName(source.format));
  request.set_dry_run(dry_run);
  return request;
}

struct Applied {
  grpc::Status status;
  lb::v1::ApplyConfigResponse response;
};

std::string refusal(const grpc::Status& status, Millis timeout) {
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    lb::v1::ErrorStatus details;
    lb::v1::ApplyErrors errors;
    if (details.ParseFromString(status.error_details()) && details.details_size() > 0 &&
        details.details(0).UnpackTo(&errors) && errors.errors_size() > 0) {
      std::string text = "refused:";
      for (const auto& e : errors.errors()) text += "\n      " + e.text();
      return text;
    }
  }
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
    return "refused: " + status.error_message();
  }
  return describe(status, timeout);
}

// What an agent ran before the rollout, to put back.
struct Previous {
  lb::v1::GetConfigResponse config;
  bool changed = false;  // the rollout applied something to it
  uint64_t applied = 0;  // the version the rollout made
};

// Puts back what the changed agents ran, the most recently changed tier first.
void rollBack(const Cluster& cluster, std::vector<std::vector<AgentConnection>>& tiers,
              std::vector<std::vector<Previous>>& previous, size_t from_tier) {
  for (size_t t = from_tier; t < cluster.tiers.size(); ++t) {
    for (size_t a = 0; a < tiers[t].size(); ++a) {
      if (!previous[t][a].changed) continue;
      const auto& before = previous[t][a].config;
      lb::v1::ApplyConfigRequest request;
      // Only over what the rollout put there: a change someone else made since is theirs.
      request.set_expected_version(previous[t][a].applied);
      if (before.version() == 0) {
        request.mutable_config();  // it had none: an empty one stops what the rollout started
        request.set_allow_no_listener(true);
      } else if (before.sources().files_size() > 0) {
        *request.mutable_sources() = before.sources();
      } else {
        *request.mutable_config() = before.config();
      }
      lb::v1::ApplyConfigResponse response;
      auto& agent = tiers[t][a];
      auto status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
        return stub.ApplyConfig(context, request, &response);
      });
      std::cout << "  " << cluster.tiers[t].name << "/" << agent.name() << ": ";
      if (status.ok()) {
        std::cout << "rolled back to the configuration of version " << before.version()
                  << " (now version " << response.version() << ")\n";
      } else if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                 status.error_message().find("version") != std::string::npos) {
        std::cout << "NOT rolled back: its configuration changed since this apply ("
                  << status.error_message() << ")\n";
      } else {
        std::cout << "ROLLBACK FAILED: " << describe(status, agent.timeout())
                  << " (it keeps the new configuration)\n";
      }
    }
  }
}

int apply(const GlobalOptions& global, const ClusterFlags& flags) {
  auto cluster = clusterOrSay(flags);
  if (!cluster) return kUsage;
  auto wait = durationOrSay("--wait-timeout", flags.wait_timeout);
  if (!wait) return kUsage;
  std::vector<std::string> errors;
  auto plan = planCluster(*cluster, &errors);
  if (!plan) {
    for (const auto& e : errors) std::cerr << e << "\n";
    std::cerr << errors.size() << " error" << (errors.size() == 1 ? "" : "s")
              << " found here; nothing was sent to the agents\n";
    return kFailed;
  }
  auto tiers = connectTiers(*cluster, global.timeout);
  const size_t n = cluster->tiers.size();
  if (flags.dry_run) {
    bool failed = false;
    for (size_t t = n; t-- > 0;) {
      std::cout << "tier " << cluster->tiers[t].name << ":\n";
      auto answers = forEachAgent<Applied>(tiers[t], [&](AgentConnection& agent) {
        Applied out;
        size_t a = static_cast<size_t>(&agent - tiers[t].data());
        auto request = requestFor((*plan)[t][a].source, true);
        out.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
          return stub.ApplyConfig(context, request, &out.response);
        });
        return out;
      });
      for (size_t a = 0; a < answers.size(); ++a) {
        std::cout << "  " << tiers[t][a].name() << ": ";
        if (!answers[a].status.ok()) {
          failed = true;
          std::cout << refusal(answers[a].status, tiers[t][a].timeout()) << "\n";
        } else {
          std::cout << "version " << answers[a].response.version() << ": "
                    << answers[a].response.diff().summary() << "\n";
        }
      }
    }
    std::cout << (failed ? "dry run: some agents would refuse; nothing was changed\n"
                         : "dry run: every agent would accept; nothing was changed\n");
    return failed ? kFailed : kOk;
  }
  // What every agent runs now, for a rollback. An agent that cannot be asked stops the rollout
  // before anything changes.
  std::vector<std::vector<Previous>> previous(n);
  bool reachable = true;
  for (size_t t = 0; t < n; ++t) {
    struct Got {
      grpc::Status status;
      lb::v1::GetConfigResponse config;
    };
    auto got = forEachAgent<Got>(tiers[t], [](AgentConnection& agent) {
      Got out;
      out.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
        return stub.GetConfig(context, lb::v1::GetConfigRequest(), &out.config);
      });
      return out;
    });
    for (size_t a = 0; a < got.size(); ++a) {
      if (!got[a].status.ok()) {
        reachable = false;
        std::cout << cluster->tiers[t].name << "/" << tiers[t][a].name() << ": "
                  << describe(got[a].status, tiers[t][a].timeout()) << "\n";
      }
      previous[t].push_back({got[a].config, false});
    }
  }
  if (!reachable) {
    std::cout << "cluster apply: not every agent answered; nothing was changed\n";
    return kFailed;
  }
  // Innermost tier first: a tier goes up only once the one it sends to is healthy.
  for (size_t t = n; t-- > 0;) {
    const Tier& tier = cluster->tiers[t];
    auto started = Clock::now();
    auto answers = forEachAgent<Applied>(tiers[t], [&](AgentConnection& agent) {
      Applied out;
      size_t a = static_cast<size_t>(&agent - tiers[t].data());
      auto request = requestFor((*plan)[t][a].source, false);
      out.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
        return stub.ApplyConfig(context, request, &out.response);
      });
      return out;
    });
    bool failed = false;
    std::cout << "tier " << tier.name << ":\n";
    for (size_t a = 0; a < answers.size(); ++a) {
      const auto& [status, r] = answers[a];
      std::cout << "  " << tiers[t][a].name() << ": ";
      if (!status.ok()) {
        failed = true;
        std::cout << refusal(status, tiers[t][a].timeout()) << "\n";
      } else if (r.applied()) {
        previous[t][a].changed = true;
        previous[t][a].applied = r.version();
        std::cout << "version " << r.previous_version() << " -> " << r.version() << " ("
                  << r.diff().summary() << ")\n";
      } else {
        std::cout << "unchanged, version " << r.version() << "\n";
      }
    }
    // Healthy before the tier above changes: the new version in force and servers to send to.
    std::vector<std::string> waiting(tiers[t].size());
    auto deadline = started + *wait;
    while (!failed) {
      auto states = forEachAgent<std::string>(tiers[t], [&](AgentConnection& agent) {
        size_t a = static_cast<size_t>(&agent - tiers[t].data());
        lb::v1::GetStatusResponse status;
        auto call = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
          return stub.GetStatus(context, lb::v1::GetStatusRequest(), &status);
        });
        if (!call.ok()) return describe(call, agent.timeout());
        return notReady(status, answers[a].response.version());
      });
      bool all = true;
      for (const auto& s : states) all = all && s.empty();
      if (all) break;
      waiting = states;
      if (Clock::now() >= deadline) {
        failed = true;
        for (size_t a = 0; a < states.size(); ++a) {
          if (!states[a].empty()) {
            std::cout << "  " << tiers[t][a].name() << ": not healthy after "
                      << formatDuration(*wait) << ": " << states[a] << "\n";
          }
        }
        break;
      }
      std::this_thread::sleep_for(Millis(250));
    }
    if (failed) {
      std::cout << "tier " << tier.name << " failed: rolling back the tiers this apply changed\n";
      rollBack(*cluster, tiers, previous, t);
      std::cout << "cluster apply failed at tier " << tier.name;
      if (t > 0) std::cout << "; the tiers above it were not touched";
      std::cout << "\n";
      return kFailed;
    }
    auto took = std::chrono::duration_cast<Millis>(Clock::now() - started);
    std::cout << "  tier " << tier.name << " healthy after " << formatDuration(took) << "\n";
  }
  std::cout << "cluster applied: " << n << " tier" << (n == 1 ? "" : "s") << ", innermost first\n";
  return kOk;
}

// ---- status: the tree ----

struct Node {
  grpc::Status status;
  lb::v1::GetStatusResponse response;
};

std::string connections(uint32_t n) {
  return std::to_string(n) + (n == 1 ? " connection" : " connections");
}

std::string stateText(const ServerStatus& s) {
  std::string text = ServerStatus::OpState_Name(s.op_state());
  if (s.admin_state() != ServerStatus::READY) {
    text += " " + ServerStatus::AdminState_Name(s.admin_state());
  }
  return text;
}

void printAgentTree(const Cluster& cluster, std::vector<std::vector<AgentConnection>>& tiers,
                    const std::vector<std::vector<Node>>& nodes, size_t t, size_t a,
                    const std::string& indent, const Style& style) {
  const auto& agent = tiers[t][a];
  const auto& node = nodes[t][a];
  std::cout << indent << style.paint(agent.name(), Color::kBold) << "  [" << cluster.tiers[t].name
            << "]  " << agent.target().address;
  if (!node.status.ok()) {
    std::cout << "  " << style.paint(describe(node.status, agent.timeout()), Color::kRed) << "\n";
    return;
  }
  const auto& info = node.response.agent();
  std::cout << "  version " << info.config_version() << "  "
            << (info.draining() ? style.paint("draining", Color::kYellow)
                                : style.paint("ready", Color::kGreen))
            << "  " << connections(info.current_connections()) << "\n";
  const auto& upstream = cluster.tiers[t].upstream;
  for (const auto& fe : node.response.frontends()) {
    const lb::v1::BackendStatus* backend = nullptr;
    for (const auto& be : node.response.backends()) {
      if (be.name() == fe.default_backend()) backend = &be;
    }
    std::cout << indent << "  frontend " << fe.name() << " ("
              << connections(fe.current_connections()) << ")";
    if (backend == nullptr) {
      std::cout << "  no backend\n";
      continue;
    }
    Color color = backend->usable_servers() == 0 ? Color::kRed : Color::kNone;
    std::cout << " -> backend " << backend->name() << ": "
              << style.paint(std::to_string(backend->usable_servers()) + " of " +
                                 std::to_string(backend->total_servers()) + " usable",
                             color)
              << "\n";
    for (const auto& s : backend->servers()) {
      std::cout << indent << "    " << s.name() << "  " << s.address() << "  "
                << style.paint(stateText(s), stateColor(stateText(s))) << "  "
                << connections(s.current_connections());
      if (s.has_last_check() && !s.last_check().status().empty()) {
        std::cout << "  " << s.last_check().status();
      }
      std::cout << "\n";
      size_t lt = 0, la = 0;
      if (upstream && backend->name() == upstream->backend && t + 1 < cluster.tiers.size() &&
          cluster.find(s.name(), &lt, &la) && lt == t + 1) {
        printAgentTree(cluster, tiers, nodes, lt, la, indent + "      ", style);
      }
    }
  }
}

int status(const GlobalOptions& global, const ClusterFlags& flags) {
  auto cluster = clusterOrSay(flags);
  if (!cluster) return kUsage;
  auto tiers = connectTiers(*cluster, global.timeout);
  std::vector<std::vector<Node>> nodes;
  bool all = true;
  for (auto& tier : tiers) {
    nodes.push_back(forEachAgent<Node>(tier, [](AgentConnection& agent) {
      Node node;
      node.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
        return stub.GetStatus(context, lb::v1::GetStatusRequest(), &node.response);
      });
      return node;
    }));
    for (const auto& node : nodes.back()) all = all && node.status.ok();
  }
  if (flags.output == "json") {
    std::cout << "{\"agents\":[";
    bool first = true;
    for (size_t t = 0; t < tiers.size(); ++t) {
      for (size_t a = 0; a < tiers[t].size(); ++a) {
        std::cout << (first ? "" : ",") << "\n  {\"tier\":" << jsonQuote(cluster->tiers[t].name)
                  << ",\"agent\":" << jsonQuote(tiers[t][a].name())
                  << ",\"address\":" << jsonQuote(tiers[t][a].target().address);
        if (nodes[t][a].status.ok()) {
          std::cout << ",\"status\":" << toJson(nodes[t][a].response, false, true);
        } else {
          std::cout << ",\"error\":"
                    << jsonQuote(describe(nodes[t][a].status, tiers[t][a].timeout()));
        }
        std::cout << "}";
        first = false;
      }
    }
    std::cout << "\n]}\n";
    return all ? kOk : kFailed;
  }
  Style style(colorWanted(global.no_color));
  // The edge's agents, with the agents below nested under the servers that are them; agents no
  // tier above points at are drawn as roots of their own.
  std::vector<std::vector<bool>> nested(tiers.size());
  for (size_t t = 0; t < tiers.size(); ++t) nested[t].assign(tiers[t].size(), false);
  for (size_t t = 0; t + 1 < tiers.size(); ++t) {
    if (!cluster->tiers[t].upstream) continue;
    for (size_t a = 0; a < tiers[t].size(); ++a) {
      for (const auto& be : nodes[t][a].response.backends()) {
        if (be.name() != cluster->tiers[t].upstream->backend) continue;
        for (const auto& s : be.servers()) {
          size_t lt = 0, la = 0;
          if (cluster->find(s.name(), &lt, &la) && lt == t + 1) nested[lt][la] = true;
        }
      }
    }
  }
  for (size_t t = 0; t < tiers.size(); ++t) {
    for (size_t a = 0; a < tiers[t].size(); ++a) {
      if (!nested[t][a]) printAgentTree(*cluster, tiers, nodes, t, a, "", style);
    }
  }
  return all ? kOk : kFailed;
}

// ---- drain and ready ----

int drainOrReady(const GlobalOptions& global, const ClusterFlags& flags, bool drain) {
  auto cluster = clusterOrSay(flags);
  if (!cluster) return kUsage;
  size_t t = 0, a = 0;
  if (!cluster->find(flags.agent, &t, &a)) {
    std::cerr << "lbctl cluster: no agent '" << flags.agent << "' in " << flags.file
              << config::didYouMean(flags.agent, cluster->agentNames()) << "\n";
    return kUsage;
  }
  auto wait = durationOrSay("--wait-timeout", flags.wait_timeout);
  if (!wait) return kUsage;
  auto tiers = connectTiers(*cluster, global.timeout);
  auto& target = tiers[t][a];
  bool failed = false;
  // The agent's own switch: its tier health answers 503 (or 200 again), so any tier above,
  // written here or not, follows within its check interval.
  lb::v1::SetAgentDrainRequest request;
  request.set_drain(drain);
  lb::v1::SetAgentDrainResponse response;
  auto status = target.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
    return stub.SetAgentDrain(context, request, &response);
  });
  std::cout << cluster->tiers[t].name << "/" << target.name() << ": ";
  if (!status.ok()) {
    failed = true;
    std::cout << describe(status, target.timeout()) << "\n";
  } else {
    std::cout << (drain ? "draining" : "ready") << (response.changed() ? "" : " (already)") << ", "
              << response.current_connections() << " connection"
              << (response.current_connections() == 1 ? "" : "s") << "\n";
  }
  // The tier above at once: its server for this agent in DRAIN (or READY): no new connection
  // goes there, the ones open carry on.
  if (t > 0 && cluster->tiers[t - 1].upstream) {
    const auto& upstream = *cluster->tiers[t - 1].upstream;
    lb::v1::SetServerStateRequest change;
    change.set_backend(upstream.backend);
    change.set_server(target.name());
    change.set_admin_state(drain ? ServerStatus::DRAIN : ServerStatus::READY);
    auto results = forEachAgent<grpc::Status>(tiers[t - 1], [&](AgentConnection& upper) {
      lb::v1::SetServerStateResponse ignored;
      return upper.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
        return stub.SetServerState(context, change, &ignored);
      });
    });
    for (size_t u = 0; u < results.size(); ++u) {
      std::cout << cluster->tiers[t - 1].name << "/" << tiers[t - 1][u].name() << ": ";
      if (results[u].ok()) {
        std::cout << upstream.backend << "/" << target.name() << " " << (drain ? "DRAIN" : "READY")
                  << "\n";
      } else {
        failed = true;
        std::cout << describe(results[u], tiers[t - 1][u].timeout()) << "\n";
      }
    }
  }
  if (!drain || !flags.wait || failed) return failed ? kFailed : kOk;
  auto started = Clock::now();
  uint32_t left = 0;
  while (true) {
    lb::v1::GetStatusResponse now;
    auto call = target.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
      return stub.GetStatus(context, lb::v1::GetStatusRequest(), &now);
    });
    if (call.ok()) {
      left = now.agent().current_connections();
      if (left == 0) break;
    }
    if (Clock::now() - started >= *wait) {
      std::cout << target.name() << ": still " << left << " connection" << (left == 1 ? "" : "s")
                << " after " << formatDuration(*wait) << "\n";
      return kFailed;
    }
    std::this_thread::sleep_for(Millis(200));
  }
  std::cout << target.name() << ": drained, 0 connections after "
            << formatDuration(std::chrono::duration_cast<Millis>(Clock::now() - started)) << "\n";
  return kOk;
}

}  // namespace

void addClusterCommands(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<ClusterFlags>();
  auto* cluster = app.add_subcommand(
      "cluster", "Tiers of agents declared once in a cluster file: apply, status, events, drain");
  cluster->require_subcommand(1);
  cluster->fallthrough();
  cluster->add_option("-f,--filename", flags->file, "the cluster file (tiers, agents, configs)")
      ->required()
      ->check(CLI::ExistingFile);
  cluster->footer(
      "Examples:\n"
      "  lbctl cluster -f cluster.yaml apply --dry-run\n"
      "  lbctl cluster -f cluster.yaml apply\n"
      "  lbctl cluster -f cluster.yaml status\n"
      "  lbctl cluster -f cluster.yaml events --follow\n"
      "  lbctl cluster -f cluster.yaml drain inner-1 --wait\n"
      "  lbctl cluster -f cluster.yaml ready inner-1\n\n"
      "The cluster file is described in docs/tiers.md.");

  auto* apply = cluster->add_subcommand(
      "apply", "Roll every tier's configuration out, innermost first, rolling back on failure");
  apply->add_flag("--dry-run", flags->dry_run,
                  "check every tier here and on its agents; change nothing");
  apply->add_option("--wait-timeout", flags->wait_timeout,
                    "how long a tier may take to be healthy after its apply (default 60s)");
  apply->footer(
      "Exit status: 0 applied (or unchanged) everywhere; 1 refused, unreachable or not healthy "
      "in time (the tiers it changed are rolled back); 2 usage.");
  apply->callback(
      [&cli, flags] { cli.run = [&cli, flags] { return ::lb::ctl::apply(cli.global, *flags); }; });

  auto* status_cmd = cluster->add_subcommand("status", "The tree: edge -> inner agents -> servers");
  status_cmd->add_option("-o,--output", flags->output, "tree, or json")
      ->check(CLI::IsMember({"tree", "json"}));
  status_cmd->callback(
      [&cli, flags] { cli.run = [&cli, flags] { return status(cli.global, *flags); }; });

  auto* events = cluster->add_subcommand(
      "events", "Every agent's events merged in time order, labelled tier/agent");
  addEventsFlags(events, flags->events, "--follow");
  events->callback([&cli, flags] {
    cli.run = [&cli, flags] {
      auto cluster = clusterOrSay(*flags);
      if (!cluster) return kUsage;
      return runEvents(cli.global, flags->events,
                       [&]() -> std::optional<std::vector<AgentConnection>> {
                         std::vector<AgentTarget> targets;
                         for (const auto& tier : cluster->tiers) {
                           for (auto agent : tier.agents) {
                             agent.target.name = tier.name + "/" + agent.target.name;
                             targets.push_back(agent.target);
                           }
                         }
                         return connect(targets, cli.global.timeout);
                       });
    };
  });

  for (bool drain : {true, false}) {
    auto* cmd = cluster->add_subcommand(
        drain ? "drain" : "ready",
        drain ? "Take an agent out of the tier above (and its tier health to 503); traffic "
                "in flight carries on"
              : "Put a drained agent back into the tier above");
    cmd->add_option("agent", flags->agent, "the agent's name in the cluster file")->required();
    if (drain) {
      cmd->add_flag("--wait", flags->wait, "then wait until the agent holds no connection");
      cmd->add_option("--wait-timeout", flags->wait_timeout, "how long --wait waits (default 60s)");
    }
    cmd->callback([&cli, flags, drain] {
      cli.run = [&cli, flags, drain] { return drainOrReady(cli.global, *flags, drain); };
    });
  }
}

}  // namespace lb::ctl
