#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/runtime/server_state.h"

namespace lb::health {

// What an agent-check's one line says, read as HAProxy 2.6 reads it (tcpcheck_agent_expect_reply):
// words separated by spaces, tabs or commas, in any order, the last of a kind winning:
//   up | down | fail | stopped   the server's operational state ("# text" after it: why)
//   ready | drain | maint        its administrative state
//   N%                           its weight, relative to the configured one
//   maxconn:N                    its maxconn
// Words are compared without case; an unknown word is reported, not fatal.
struct AgentReply {
  std::optional<bool> up;   // a health word: true for up, false for down/fail/stopped
  std::string health_word;  // "up", "down", ... as written
  std::optional<runtime::AdminState> admin;  // ready, drain, maint
  std::optional<std::string> weight;         // "75%" as written
  std::optional<std::string> maxconn;        // what follows "maxconn:"
  std::string description;                   // after '#'
  std::string error;                         // the first word not understood
};

AgentReply parseAgentReply(std::string_view line);

// A relative weight ("75%") against the configured weight, as HAProxy's
// server_parse_weight_change_request: the result is capped at 256; nullopt with *error set when
// the text is not "N%" with N >= 0 (or an absolute weight 0..256).
std::optional<uint32_t> agentWeight(const std::string& text, uint32_t configured,
                                    std::string* error);

}  // namespace lb::health
