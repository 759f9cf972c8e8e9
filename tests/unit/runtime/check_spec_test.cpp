// CheckSpec: a backend's check settings compiled once per apply: the HTTP request, status
// lists, regexes and hex bytes, and the tcp-check steps.
#include "agent/runtime/check_spec.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <string>

namespace lb::runtime {
namespace {

lb::v1::HealthCheck spec(const std::string& text) {
  lb::v1::HealthCheck check;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &check)) << text;
  return check;
}

TEST(StatusListTest, ListsOfCodesAndRanges) {
  struct Row {
    const char* list;
    unsigned status;
    bool matches;
  };
  for (const Row& row : {
           Row{"200", 200, true},
           Row{"200", 201, false},
           Row{"200-299", 200, true},
           Row{"200-299", 299, true},
           Row{"200-299", 300, false},
           Row{"200,302,400-404", 302, true},
           Row{"200,302,400-404", 403, true},
           Row{"200,302,400-404", 405, false},
           Row{"200,302,400-404", 301, false},
       }) {
    ExpectRule rule;
    rule.match = ExpectRule::Match::kStatus;
    auto list = parseStatusList(row.list);
    ASSERT_TRUE(list) << row.list;
    rule.statuses = *list;
    EXPECT_EQ(rule.matchesHttp(row.status, ""), row.matches) << row.list << " vs " << row.status;
  }
  for (const char* bad : {"", "abc", "200-", "2x0", "200,,302"}) {
    EXPECT_FALSE(parseStatusList(bad)) << bad;
  }
}

TEST(CheckSpecTest, HttpRequestIsBuiltOnce) {
  auto built =
      makeCheckSpec(spec("type: HTTP http { method: 'GET' uri: '/health' version: 'HTTP/1.1' "
                         "headers { name: 'Host' value: 'www' } body: 'ping' }"));
  ASSERT_TRUE(built);
  EXPECT_EQ(built->kind, CheckSpec::Kind::kHttp);
  EXPECT_EQ(built->http_request,
            "GET /health HTTP/1.1\r\nHost: www\r\nContent-Length: 4\r\nConnection: close\r\n\r\n"
            "ping");
  auto keep =
      makeCheckSpec(spec("type: HTTP http { method: 'GET' uri: '/' version: 'HTTP/1.1' "
                         "headers { name: 'connection' value: 'keep-alive' } }"));
  EXPECT_EQ(keep->http_request, "GET / HTTP/1.1\r\nconnection: keep-alive\r\n\r\n");
}

TEST(CheckSpecTest, ExpectRulesMatchWhatTheyName) {
  auto built =
      makeCheckSpec(spec("type: HTTP http { method: 'GET' uri: '/' version: 'HTTP/1.0' "
                         "expect { match: STATUS pattern: '200-299' } "
                         "expect { match: RSTATUS pattern: '^2' } "
                         "expect { match: STRING pattern: 'ok' } "
                         "expect { negate: true match: RSTRING pattern: 'err(or)?' } }"));
  ASSERT_TRUE(built);
  ASSERT_EQ(built->http_expect.size(), 4u);
  EXPECT_TRUE(built->http_expect[0].matchesHttp(204, ""));
  EXPECT_FALSE(built->http_expect[0].matchesHttp(301, ""));
  EXPECT_TRUE(built->http_expect[1].matchesHttp(200, ""));
  EXPECT_FALSE(built->http_expect[1].matchesHttp(500, ""));
  EXPECT_TRUE(built->http_expect[2].matchesHttp(500, "all ok"));
  EXPECT_TRUE(built->http_expect[3].negate);
  EXPECT_TRUE(built->http_expect[3].matchesHttp(200, "an error"));
  EXPECT_TRUE(built->http_expect[0].onStatus());
  EXPECT_FALSE(built->http_expect[2].onStatus());
}

TEST(CheckSpecTest, TcpCheckStepsAreDecoded) {
  auto built =
      makeCheckSpec(spec("type: TCP_CHECK tcp_check { connect { port: 6379 addr: '127.0.0.2' } } "
                         "tcp_check { send_binary: '50494e470d0a' } "
                         "tcp_check { expect { match: BINARY pattern: '2b504f4e47' } } "
                         "tcp_check { send: 'QUIT\\r\\n' } tcp_check { comment: 'done' }"));
  ASSERT_TRUE(built);
  ASSERT_EQ(built->tcp_check.size(), 5u);
  EXPECT_EQ(built->tcp_check[0].kind, TcpCheckStep::Kind::kConnect);
  EXPECT_EQ(built->tcp_check[0].port, 6379);
  EXPECT_EQ(built->tcp_check[0].address->to_string(), "127.0.0.2");
  EXPECT_EQ(built->tcp_check[1].send, "PING\r\n");
  EXPECT_TRUE(built->tcp_check[2].expect.matchesBytes("+PONG\r\n"));
  EXPECT_FALSE(built->tcp_check[2].expect.matchesBytes("-ERR\r\n"));
  EXPECT_EQ(built->tcp_check[3].send, "QUIT\r\n");
  EXPECT_EQ(built->tcp_check[4].kind, TcpCheckStep::Kind::kComment);
}

TEST(CheckSpecTest, WhatTheValidatorRefusesIsReportedWithItsPath) {
  std::string error, path;
  EXPECT_FALSE(makeCheckSpec(spec("type: HTTP http { expect { match: RSTRING pattern: '(' } }"),
                             &error, &path));
  EXPECT_EQ(path, "http.expect[0]");
  EXPECT_NE(error.find("invalid regular expression '('"), std::string::npos) << error;
  EXPECT_FALSE(makeCheckSpec(
      spec("type: TCP_CHECK tcp_check { comment: 'x' } tcp_check { connect { addr: 'db' } }"),
      &error, &path));
  EXPECT_EQ(path, "tcp_check[1].connect.addr");
}

}  // namespace
}  // namespace lb::runtime
