// lbctl status: what every agent says about itself, its frontends, backends and servers, as
// aligned tables (states coloured on a terminal) or JSON for scripts.
#include <google/protobuf/util/time_util.h>

#include <iostream>

#include "ctl/commands.h"
#include "ctl/output.h"

namespace lb::ctl {

namespace {

using google::protobuf::util::TimeUtil;
using lb::v1::ServerStatus;

struct StatusFlags {
  std::string backend;
  std::string output = "table";
};

struct Answer {
  grpc::Status status;
  lb::v1::GetStatusResponse response;
};

std::string checkText(const ServerStatus& s) {
  if (!s.check_enabled()) return "no check";
  if (!s.has_last_check() || s.last_check().status().empty()) return "not yet";
  const auto& c = s.last_check();
  std::string text = c.status();
  if (!c.info().empty()) {
    text += " " + c.info();
  } else if (c.has_duration()) {
    text += " " + std::to_string(TimeUtil::DurationToMilliseconds(c.duration())) + "ms";
  }
  return text;
}

std::string bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(n);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f%s" : "%.1f%s", value, units[unit]);
  return text;
}

void printAgent(const AgentConnection& agent, const lb::v1::GetStatusResponse& r, bool wide,
                const Style& style) {
  const auto& a = r.agent();
  std::cout << style.paint(agent.name(), Color::kBold);
  if (!a.name().empty() && a.name() != agent.name()) std::cout << " (" << a.name() << ")";
  std::cout << "  lb " << a.lb_version() << "  config version " << a.config_version() << "  up "
            << formatDuration(Millis(TimeUtil::DurationToMilliseconds(a.uptime())))
            << "  connections " << a.current_connections();
  if (a.draining()) std::cout << "  " << style.paint("draining", Color::kYellow);
  if (wide) std::cout << "  pid " << a.pid() << "  threads " << a.threads();
  std::cout << "\n";
  if (a.config_version() == 0) {
    std::cout << "  no configuration yet\n\n";
    return;
  }
  if (r.frontends_size() > 0) {
    Table t({"FRONTEND", "BINDS", "CONNS", "TOTAL", "REJECTED"});
    for (const auto& f : r.frontends()) {
      std::string binds;
      for (const auto& b : f.binds()) binds += (binds.empty() ? "" : ",") + b;
      t.add({{f.name()},
             {binds},
             {std::to_string(f.current_connections())},
             {std::to_string(f.total_connections())},
             {std::to_string(f.rejected())}});
    }
    t.print(std::cout, style, "  ");
  }
  Table backends({"BACKEND", "BALANCE", "SERVERS", "QUEUE", "CONNS", "TOTAL", "NO SERVER"});
  for (const auto& b : r.backends()) {
    bool none = b.usable_servers() == 0 && b.total_servers() > 0;
    backends.add({{b.name()},
                  {b.balance()},
                  {std::to_string(b.usable_servers()) + "/" + std::to_string(b.total_servers()),
                   none ? Color::kRed : Color::kNone},
                  {std::to_string(b.queue())},
                  {std::to_string(b.current_connections())},
                  {std::to_string(b.total_connections())},
                  {std::to_string(b.no_server())}});
  }
  if (!backends.empty()) backends.print(std::cout, style, "  ");
  std::vector<std::string> header{"SERVER", "ADDRESS", "STATE", "ADMIN",
                                  "WEIGHT", "CONNS",   "TOTAL", "LAST CHECK"};
  if (wide) {
    for (const char* h : {"HEALTH", "IN", "OUT", "CONN ERR", "RETRIES", "LAST CHANGE"}) {
      header.push_back(h);
    }
  }
  Table servers(header);
  for (const auto& b : r.backends()) {
    for (const auto& s : b.servers()) {
      std::string op = ServerStatus::OpState_Name(s.op_state());
      std::string admin = ServerStatus::AdminState_Name(s.admin_state());
      std::string weight = std::to_string(s.effective_weight());
      if (s.effective_weight() != s.configured_weight()) {
        weight += "/" + std::to_string(s.configured_weight());
      }
      std::vector<Table::Cell> row{{b.name() + "/" + s.name() + (s.backup() ? " (backup)" : "")},
                                   {s.address()},
                                   {op, stateColor(op)},
                                   {admin, stateColor(admin)},
                                   {weight},
                                   {std::to_string(s.current_connections())},
                                   {std::to_string(s.total_connections())},
                                   {checkText(s)}};
      if (wide) {
        row.push_back({std::to_string(s.health()) + "/" + std::to_string(s.rise() + s.fall() - 1)});
        row.push_back({bytes(s.bytes_in())});
        row.push_back({bytes(s.bytes_out())});
        row.push_back({std::to_string(s.connect_errors())});
        row.push_back({std::to_string(s.retries())});
        row.push_back({s.has_last_change() ? TimeUtil::ToString(s.last_change()) : "-"});
      }
      servers.add(std::move(row));
    }
  }
  if (!servers.empty()) servers.print(std::cout, style, "  ");
  std::cout << "\n";
}

int run(const GlobalOptions& global, const StatusFlags& flags) {
  auto agents = agentsOrSay(global);
  if (!agents) return kUsage;
  lb::v1::GetStatusRequest request;
  request.set_backend(flags.backend);
  auto answers = forEachAgent<Answer>(*agents, [&](AgentConnection& agent) {
    Answer answer;
    answer.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
      return stub.GetStatus(context, request, &answer.response);
    });
    return answer;
  });
  Style style(colorWanted(global.no_color));
  bool failed = false;
  if (flags.output == "json") {
    // One document: every agent, with its status or its error.
    std::cout << "{\"agents\":[";
    for (size_t i = 0; i < answers.size(); ++i) {
      const auto& agent = (*agents)[i];
      std::cout << (i == 0 ? "" : ",") << "{\"agent\":" << jsonQuote(agent.name())
                << ",\"address\":" << jsonQuote(agent.target().address);
      if (answers[i].status.ok()) {
        std::cout << ",\"status\":" << toJson(answers[i].response, false, true);
      } else {
        failed = true;
        std::cout << ",\"error\":" << jsonQuote(describe(answers[i].status, agent.timeout()));
      }
      std::cout << "}";
    }
    std::cout << "]}\n";
    return failed ? kFailed : kOk;
  }
  for (size_t i = 0; i < answers.size(); ++i) {
    const auto& agent = (*agents)[i];
    if (!answers[i].status.ok()) {
      failed = true;
      std::cout << style.paint(agent.name(), Color::kBold) << "  "
                << style.paint(describe(answers[i].status, agent.timeout()), Color::kRed) << "\n\n";
      continue;
    }
    printAgent(agent, answers[i].response, flags.output == "wide", style);
  }
  return failed ? kFailed : kOk;
}

}  // namespace

void addStatusCommand(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<StatusFlags>();
  auto* status = app.add_subcommand("status", "Show each agent's frontends, backends and servers");
  status->add_option("backend", flags->backend, "only this backend");
  status
      ->add_option("-o,--output", flags->output,
                   "table, wide (also health, bytes, errors, last change) or json")
      ->check(CLI::IsMember({"table", "wide", "json"}));
  status->footer(
      "Examples:\n"
      "  lbctl status\n"
      "  lbctl status web_test -o wide\n"
      "  lbctl status -o json | jq '.agents[].status.backends[].usable_servers'\n\n"
      "Exit status: 0 every agent answered, 1 one did not (it is shown with why), 2 usage.");
  status->callback([&cli, flags] { cli.run = [&cli, flags] { return run(cli.global, *flags); }; });
}

}  // namespace lb::ctl
