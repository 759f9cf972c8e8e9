#pragma once

// Shared helpers of the lb_config unit tests: a fake resolver and environment, a one-call
// HAProxy-syntax parse, and gmock matchers on Diagnostic.

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "agent/common/resolver.h"
#include "agent/config/address.h"
#include "agent/config/diagnostics.h"
#include "agent/config/haproxy_parser.h"
#include "agent/config/loader.h"
#include "agent/config/tokenizer.h"
#include "lb/v1/config.pb.h"

namespace lb::config {

// gtest prints a Diagnostic the way lb-agent -c does.
inline void PrintTo(const Diagnostic& diagnostic, std::ostream* os) {
  *os << diagnostic.toString();
}

// Resolves IP literals and the names it was given; everything else fails, as an unknown name
// does with real DNS (which the tests never use).
class FakeResolver : public Resolver {
 public:
  explicit FakeResolver(std::set<std::string> names = {}) : names_(std::move(names)) {}

  std::optional<boost::asio::ip::address> resolve(const std::string& host,
                                                  std::string* error) override {
    boost::system::error_code ec;
    if (auto literal = boost::asio::ip::make_address(host, ec); !ec) return literal;
    if (names_.count(host) > 0) return boost::asio::ip::make_address("127.0.0.1");
    *error = "Name or service not known";
    return std::nullopt;
  }

 private:
  std::set<std::string> names_;
};

// An environment holding exactly `vars`.
inline EnvLookup fakeEnv(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// What the HAProxy-syntax parser alone produces: no normalization, no validation.
struct ParseOutput {
  lb::v1::Config config;
  Diagnostics diagnostics;
  SourceMap sources;
};

inline ParseOutput parseHaproxy(const std::string& text, EnvLookup env = fakeEnv()) {
  ParseOutput out;
  HaproxyParser parser(out.config, out.sources, out.diagnostics, std::move(env));
  parser.parse(text, "lb.cfg");
  parser.finish();
  return out;
}

// The whole pipeline (parse, normalize, validate) on one file named lb.cfg.
inline LoadResult loadText(const std::string& text, Resolver* resolver = nullptr,
                           EnvLookup env = fakeEnv()) {
  LoadOptions options;
  options.resolver = resolver;
  options.env = std::move(env);
  return load({Source{"lb.cfg", text, Format::kAuto}}, options);
}

inline lb::v1::Config configFromText(const std::string& textproto) {
  lb::v1::Config config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(textproto, &config)) << textproto;
  return config;
}

// Compares two messages and reports their difference field by field.
inline ::testing::AssertionResult sameMessage(const google::protobuf::Message& expected,
                                              const google::protobuf::Message& actual) {
  std::string report;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&report);
  if (differencer.Compare(expected, actual)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "messages differ:\n" << report;
}

MATCHER(IsError, "is an error") {
  return arg.severity == Severity::kError;
}
MATCHER(IsWarning, "is a warning") {
  return arg.severity == Severity::kWarning;
}
MATCHER_P(AtLine, line, "at line " + ::testing::PrintToString(line)) {
  return arg.where.has_value() && arg.where->line == line;
}
MATCHER_P(InFile, file, "in file " + ::testing::PrintToString(file)) {
  return arg.where.has_value() && arg.where->file == file;
}
MATCHER_P(AtPath, path, "at field path " + ::testing::PrintToString(path)) {
  return arg.path == path;
}
MATCHER_P(MessageHas, text, "with a message containing " + ::testing::PrintToString(text)) {
  return arg.message.find(text) != std::string::npos;
}

// An error (or warning) at `line` whose message contains every one of `words`.
inline auto errorAt(int line, std::vector<std::string> words) {
  std::vector<::testing::Matcher<const Diagnostic&>> all{IsError(), AtLine(line)};
  for (auto& word : words) all.push_back(MessageHas(word));
  return ::testing::AllOfArray(all);
}
inline auto warningAt(int line, std::vector<std::string> words) {
  std::vector<::testing::Matcher<const Diagnostic&>> all{IsWarning(), AtLine(line)};
  for (auto& word : words) all.push_back(MessageHas(word));
  return ::testing::AllOfArray(all);
}

inline std::vector<Diagnostic> errorsOf(const Diagnostics& diagnostics) {
  std::vector<Diagnostic> out;
  for (const auto& d : diagnostics.all()) {
    if (d.severity == Severity::kError) out.push_back(d);
  }
  return out;
}
inline std::vector<Diagnostic> warningsOf(const Diagnostics& diagnostics) {
  std::vector<Diagnostic> out;
  for (const auto& d : diagnostics.all()) {
    if (d.severity == Severity::kWarning) out.push_back(d);
  }
  return out;
}

}  // namespace lb::config
