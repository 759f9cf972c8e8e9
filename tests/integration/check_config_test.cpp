// `lb-agent -c -f FILE...`: the real binary checks configurations as `haproxy -c` does — every
// problem printed as FILE:LINE, exit status 0 only for a valid configuration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace lb {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved as written
};

// Runs lb-agent with `args` to completion.
RunResult runAgent(const std::vector<std::string>& args) {
  std::vector<std::string> argv{LB_AGENT_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Process agent(argv);
  RunResult result;
  result.output = agent.finalOutput();
  result.exit_code = agent.wait().value_or(-1);
  return result;
}

// A fresh directory per test for the configuration files it writes.
class CheckConfigTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    return dir_.write(name, text);
  }

  testing::TempDir dir_;
};

// The configuration as the HAProxy TCP guide prints it (its server placeholders filled in):
// the frontend names the backend 'web-test' while the backend is called 'web_test'.
constexpr const char* kGuideConfig = R"(frontend web-test
    bind *:80
    mode tcp
    default_backend web-test

backend web_test
    mode tcp
    balance roundrobin
    server server1 10.0.0.11:80 check inter 4s
    server server2 10.0.0.12:80 check inter 4s observe layer4 error-limit 10 on-error mark-down
    server server3 10.0.0.13:80 check inter 4s
)";

TEST_F(CheckConfigTest, GuideConfigFailsAndNamesBothSpellings) {
  std::string path = write("haproxy.cfg", kGuideConfig);
  RunResult run = runAgent({"-c", "-f", path});
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("'web-test'"));
  EXPECT_THAT(run.output, HasSubstr("'web_test'"));
  // The error points at the default_backend line.
  EXPECT_THAT(run.output, HasSubstr(path + ":4: error:"));
  EXPECT_THAT(run.output, Not(HasSubstr("Configuration file is valid")));
}

TEST_F(CheckConfigTest, GuideConfigWithTheNameFixedPasses) {
  std::string text = kGuideConfig;
  text.replace(text.find("default_backend web-test"), 24, "default_backend web_test");
  std::string path = write("haproxy.cfg", text);
  RunResult run = runAgent({"-c", "-f", path});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  // No timeouts in the guide: valid, with HAProxy's warnings.
  EXPECT_THAT(run.output, HasSubstr("Configuration file is valid"));
  EXPECT_THAT(run.output, HasSubstr("missing timeouts"));
}

TEST_F(CheckConfigTest, DebianDefaultPlusGuidePassesWithWarnings) {
  RunResult run = runAgent({"-c", "-f", LB_TEST_DATA_DIR "/debian-default-plus-guide.cfg"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Configuration file is valid"));
  EXPECT_THAT(run.output, HasSubstr("warning"));
  EXPECT_THAT(run.output, Not(HasSubstr("error:")));
}

TEST_F(CheckConfigTest, DocsSeedConfigPasses) {
  fs::path seed = fs::path(LB_DOCS_DIR) / "examples" / "seed.cfg";
  if (!fs::exists(seed)) GTEST_SKIP() << seed << " does not exist yet";
  RunResult run = runAgent({"-c", "-f", seed.string()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Configuration file is valid"));
  EXPECT_THAT(run.output, Not(HasSubstr("error:")));
}

TEST_F(CheckConfigTest, DocsSeedYamlPasses) {
  fs::path seed = fs::path(LB_DOCS_DIR) / "examples" / "seed.yaml";
  if (!fs::exists(seed)) GTEST_SKIP() << seed << " does not exist yet";
  RunResult run = runAgent({"-c", "-f", seed.string()});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Configuration file is valid"));
}

TEST_F(CheckConfigTest, YamlConfigPasses) {
  std::string path = write("lb.yaml", R"(# The guide's configuration, fixed, as YAML.
frontends:
  - name: web-test
    binds: [{ address: 0.0.0.0, port: 80 }]
    default_backend: web_test
    timeouts: { client: 30s }
backends:
  - name: web_test
    balance: { algorithm: roundrobin }
    timeouts: { connect: 5s, server: 30s }
    servers:
      - { name: server1, address: 10.0.0.11, port: 80, check: true, inter: 4s }
      - { name: server2, address: 10.0.0.12, port: 80, check: true, inter: 4s,
          observe: layer4, error_limit: 10, on_error: mark-down }
)");
  RunResult run = runAgent({"-c", "-f", path});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Configuration file is valid"));
  EXPECT_THAT(run.output, Not(HasSubstr("warning")));
}

TEST_F(CheckConfigTest, YamlErrorsCarryFileAndLine) {
  std::string path = write("lb.yaml", "frontends:\n  - name: web\n    defualt_backend: app\n");
  RunResult run = runAgent({"-c", "-f", path});
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(path + ":3: error:"));
  EXPECT_THAT(run.output, HasSubstr("did you mean 'default_backend'?"));
}

TEST_F(CheckConfigTest, MissingFileFails) {
  std::string path = dir_.path() + "/does-not-exist.cfg";
  RunResult run = runAgent({"-c", "-f", path});
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("does-not-exist.cfg"));
}

TEST_F(CheckConfigTest, LogLevelWarnIsWarning) {
  std::string path = write("ok.cfg",
                           "frontend fe\n    bind 127.0.0.1:0\n    default_backend be\n"
                           "backend be\n    server s 127.0.0.1:80\n");
  RunResult warn = runAgent({"-c", "-f", path, "--log-level", "warn"});
  EXPECT_EQ(warn.exit_code, 0) << warn.output;
  RunResult loud = runAgent({"-c", "-f", path, "--log-level", "loud"});
  EXPECT_NE(loud.exit_code, 0) << loud.output;
  EXPECT_THAT(loud.output, HasSubstr("--log-level"));
}

TEST_F(CheckConfigTest, NoConfigFails) {
  RunResult run = runAgent({"-c"});
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("-f"));
}

TEST_F(CheckConfigTest, ErrorsArePrintedAsFileColonLine) {
  std::string path = write("bad.cfg", R"(frontend web
    bind *:80
    timeout client 30s
    default_backend app

backend app
    balanse roundrobin
    server s1 10.0.0.1:80 weight 300
    server s2 10.0.0.2:80 chek
)");
  RunResult run = runAgent({"-c", "-f", path});
  EXPECT_NE(run.exit_code, 0) << run.output;
  // Every error on its own line, in order, each naming the file and the line it is on.
  std::vector<std::string> errors;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("error:") != std::string::npos) errors.push_back(line);
  }
  ASSERT_EQ(errors.size(), 3u) << run.output;
  std::regex located("^" +
                     std::regex_replace(path, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                     R"(:(\d+): error: .+$)");
  std::vector<std::string> expected_lines{"7", "9", "8"};
  std::vector<std::string> found_lines;
  for (const auto& line : errors) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(line, match, located)) << line;
    found_lines.push_back(match[1]);
  }
  // Parse errors come first (lines 7 and 9), then the validator's (line 8).
  EXPECT_EQ(found_lines, expected_lines) << run.output;
  EXPECT_THAT(run.output, HasSubstr("did you mean 'balance'?"));
  EXPECT_THAT(run.output, HasSubstr("did you mean 'check'?"));
  EXPECT_THAT(run.output, HasSubstr("weight 300"));
  EXPECT_THAT(run.output, HasSubstr("3 errors"));
}

TEST_F(CheckConfigTest, SecondFileUsesDefaultsOfTheFirst) {
  std::string defaults = write("00-defaults.cfg", R"(defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
)");
  std::string proxies = write("10-proxies.cfg", R"(frontend web
    bind 127.0.0.1:8080
    default_backend app

backend app
    server s1 127.0.0.1:8081 check
)");
  RunResult both = runAgent({"-c", "-f", defaults, "-f", proxies});
  EXPECT_EQ(both.exit_code, 0) << both.output;
  EXPECT_THAT(both.output, HasSubstr("Configuration file is valid"));
  // The timeouts came from the first file: no "missing timeouts" warning.
  EXPECT_THAT(both.output, Not(HasSubstr("missing timeouts")));

  RunResult alone = runAgent({"-c", "-f", proxies});
  EXPECT_EQ(alone.exit_code, 0) << alone.output;
  EXPECT_THAT(alone.output, HasSubstr(proxies + ":1: warning: missing timeouts"));
}

TEST_F(CheckConfigTest, QuietPrintsNothingForAValidConfig) {
  std::string path = write("lb.cfg", R"(frontend web
    bind 127.0.0.1:8080
    timeout client 30s
    default_backend app
backend app
    timeout connect 5s
    timeout server 30s
    server s1 127.0.0.1:8081
)");
  RunResult run = runAgent({"-c", "-q", "-f", path});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "");
}

}  // namespace
}  // namespace lb
