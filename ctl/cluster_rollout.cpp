// lbctl cluster apply: every tier's configuration checked here first; then, innermost tier
// first, applied to the tier's agents, which must report the new version with servers to send
// to before the tier above changes; on a refusal or a tier not healthy in time, the tiers this
// apply changed are rolled back, most recent first.
#include <chrono>
#include <iostream>
#include <thread>

#include "ctl/cluster_commands.h"
#include "ctl/output.h"

namespace lb::ctl {

namespace {

using Clock = std::chrono::steady_clock;
using lb::v1::ServerStatus;

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

// Every agent of a tier gets its plan's configuration, all at once.
std::vector<Applied> applyTier(std::vector<AgentConnection>& agents,
                               const std::vector<AgentPlan>& plan, bool dry_run) {
  return forEachAgent<Applied>(agents, [&](AgentConnection& agent) {
    Applied out;
    auto request = requestFor(plan[static_cast<size_t>(&agent - agents.data())].source, dry_run);
    out.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
      return stub.ApplyConfig(context, request, &out.response);
    });
    return out;
  });
}

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

}  // namespace

int clusterApply(const GlobalOptions& global, const ClusterFlags& flags) {
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
      auto answers = applyTier(tiers[t], (*plan)[t], true);
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
    auto answers = applyTier(tiers[t], (*plan)[t], false);
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

}  // namespace lb::ctl
