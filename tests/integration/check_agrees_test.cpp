// `lb-agent -c` and a running `lb-agent -f` agree: what the check calls valid starts and
// serves, and what the check refuses the agent refuses at start, with the same FILE:LINE
// message, before opening anything. Fed with every configuration shipped in tests/data and
// docs/examples, and with one configuration per feature lb refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every bind on a port the kernel chooses: the files name fixed ports that may be taken.
std::string onFreePorts(std::string text) {
  static const std::regex kBind(R"((\n\s*bind\s+)\S+)");
  text = std::regex_replace(text, kBind, "${1}127.0.0.1:0");
  // YAML: `binds: [{address: ..., port: N}]` and `port: N` inside binds.
  static const std::regex kYamlPort(R"((binds:[^\n]*port:\s*)\d+)");
  text = std::regex_replace(text, kYamlPort, "${1}0");
  return text;
}

struct Outcome {
  int exit_code = -1;
  std::string output;
};

Outcome check(const std::string& path) {
  Process agent({LB_AGENT_PATH, "-c", "-f", path});
  Outcome out;
  out.output = agent.finalOutput();
  out.exit_code = agent.wait().value_or(-1);
  return out;
}

// Starts the agent on the file; a valid one is stopped once it says it serves.
Outcome start(const std::string& path) {
  Process agent({LB_AGENT_PATH, "-f", path, "--threads", "1", "--grpc", "127.0.0.1:0", "--http",
                 "127.0.0.1:0"});
  Outcome out;
  auto said = agent.waitFor(std::regex("configuration version 1 applied|configuration refused|"
                                       "running configuration is unchanged"),
                            10s);
  if (said && said->str() == "configuration version 1 applied") agent.signal(SIGTERM);
  out.output = agent.finalOutput();
  out.exit_code = agent.wait().value_or(-1);
  return out;
}

// The `FILE:LINE: error: ...` lines of an output, without the logger's prefix.
std::vector<std::string> errorLines(const std::string& output) {
  std::vector<std::string> out;
  static const std::regex kError(R"(\S+:\d+: error: [^\n]*)");
  for (std::sregex_iterator it(output.begin(), output.end(), kError), end; it != end; ++it) {
    out.push_back(it->str());
  }
  return out;
}

void expectAgreement(const std::string& path) {
  Outcome checked = check(path);
  Outcome started = start(path);
  if (checked.exit_code == 0) {
    EXPECT_EQ(started.exit_code, 0) << "-c called " << path << " valid, but the agent said:\n"
                                    << started.output;
    EXPECT_THAT(started.output, HasSubstr("configuration version 1 applied"));
  } else {
    EXPECT_EQ(started.exit_code, 1) << "-c refused " << path << ", but the agent said:\n"
                                    << started.output;
    EXPECT_THAT(started.output,
                ::testing::Not(::testing::ContainsRegex("frontend '[^']+' listening on")));
    auto errors = errorLines(checked.output);
    EXPECT_FALSE(errors.empty()) << checked.output;
    EXPECT_EQ(errorLines(started.output), errors) << "the two name other problems";
  }
}

TEST(CheckAgreesTest, EveryShippedConfiguration) {
  TempDir dir;
  int files = 0;
  for (const char* root : {LB_TEST_DATA_DIR, LB_DOCS_DIR "/examples"}) {
    for (const auto& entry : fs::directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      std::string name = entry.path().filename().string();
      std::string copy = dir.write(name, onFreePorts(readFile(entry.path().string())));
      SCOPED_TRACE(entry.path().string());
      expectAgreement(copy);
      ++files;
    }
  }
  EXPECT_GE(files, 3);
}

// One configuration per refusal: each names what lb does not do, on its line.
struct Refusal {
  const char* name;
  const char* frontend_extra;  // lines added to the frontend
  const char* backend_extra;   // lines added to the backend
  const char* server_extra;    // words added to the server line
  const char* says;            // part of the message
};

void PrintTo(const Refusal& refusal, std::ostream* os) {
  *os << refusal.name;
}

class RefusalTest : public ::testing::TestWithParam<Refusal> {};

TEST_P(RefusalTest, CheckAndStartRefuseAtTheSameLine) {
  const Refusal& r = GetParam();
  TempDir dir;
  std::string text = std::string("frontend fe\n    bind 127.0.0.1:0\n    mode tcp\n") +
                     r.frontend_extra + "    timeout client 5s\n    default_backend be\n" +
                     "backend be\n    mode tcp\n    timeout connect 1s\n    timeout server 5s\n" +
                     r.backend_extra + "    server s1 127.0.0.1:1 " + r.server_extra + "\n";
  std::string path = dir.write("lb.cfg", text);
  Outcome checked = check(path);
  EXPECT_NE(checked.exit_code, 0) << checked.output;
  EXPECT_THAT(checked.output, HasSubstr(r.says));
  EXPECT_THAT(checked.output, HasSubstr(path + ":"));
  expectAgreement(path);
}

INSTANTIATE_TEST_SUITE_P(
    Unsupported, RefusalTest,
    ::testing::Values(
        Refusal{"HttpMode", "    mode http\n", "", "", "HTTP mode is not supported yet"},
        Refusal{"UseBackendToNowhere", "    use_backend bee if TRUE\n", "", "",
                "use_backend 'bee' of frontend 'fe' not found; did you mean 'be'?"},
        Refusal{"TcpRequestLuaAction", "    tcp-request content lua.auth\n", "", "",
                "unsupported action 'lua.auth'"},
        Refusal{"AclOnAnHttpFetch", "    acl api path_beg /api\n", "", "",
                "unknown fetch 'path_beg'"},
        Refusal{"RateLimitWithoutATable", "    tcp-request connection track-sc0 src\n", "", "",
                "'fe' has no stick-table"},
        Refusal{"SslBind", "    bind 127.0.0.1:0 ssl crt /x.pem\n", "", "",
                "lb does not terminate TLS"},
        Refusal{"SslServer", "", "", "ssl verify none", "server option 'ssl' is not supported"},
        Refusal{"SocksServer", "", "", "socks4 127.0.0.1:1080", "not through a SOCKS proxy"},
        Refusal{"TcpCheckConnectToAName", "",
                "    option tcp-check\n    tcp-check connect addr db.internal port 5432\n", "check",
                "must be an IP address"}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace lb::testing
