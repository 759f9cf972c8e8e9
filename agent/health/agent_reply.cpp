#include "agent/health/agent_reply.h"

#include <strings.h>

#include <cctype>
#include <charconv>

namespace lb::health {

namespace {

bool is(std::string_view word, const char* name) {
  std::string_view n(name);
  return word.size() == n.size() && ::strncasecmp(word.data(), name, n.size()) == 0;
}

}  // namespace

AgentReply parseAgentReply(std::string_view line) {
  AgentReply reply;
  line = line.substr(0, line.find_first_of("\r\n"));
  size_t i = 0;
  auto separator = [](char c) { return c == ' ' || c == '\t' || c == ','; };
  while (i < line.size()) {
    if (separator(line[i])) {
      ++i;
      continue;
    }
    if (line[i] == '#') {
      std::string_view rest = line.substr(i + 1);
      rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
      reply.description = std::string(rest);
      break;
    }
    size_t end = i;
    while (end < line.size() && !separator(line[end])) ++end;
    std::string_view word = line.substr(i, end - i);
    i = end;
    if (is(word, "up")) {
      reply.up = true;
      reply.health_word = word;
    } else if (is(word, "down") || is(word, "fail") || is(word, "stopped")) {
      reply.up = false;
      reply.health_word = word;
    } else if (is(word, "ready")) {
      reply.admin = runtime::AdminState::kReady;
    } else if (is(word, "drain")) {
      reply.admin = runtime::AdminState::kDrain;
    } else if (is(word, "maint")) {
      reply.admin = runtime::AdminState::kMaint;
    } else if (std::isdigit(static_cast<unsigned char>(word[0])) &&
               word.find('%') != std::string_view::npos) {
      reply.weight = std::string(word);
    } else if (word.size() >= 8 && ::strncasecmp(word.data(), "maxconn:", 8) == 0) {
      reply.maxconn = std::string(word.substr(8));
    } else if (reply.error.empty()) {
      reply.error = std::string(word);
    }
  }
  return reply;
}

std::optional<uint32_t> agentWeight(const std::string& text, uint32_t configured,
                                    std::string* error) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) {
    *error = "Empty weight string empty or preceded by garbage";
    return std::nullopt;
  }
  std::string_view rest(end, static_cast<size_t>(text.data() + text.size() - end));
  if (rest == "%") {
    if (value < 0) {
      *error = "Relative weight must be positive.";
      return std::nullopt;
    }
    value = std::min(value, 25600L);
    value = std::min(static_cast<long>(configured) * value / 100, 256L);
    return static_cast<uint32_t>(value);
  }
  if (value < 0 || value > 256) {
    *error = "Absolute weight can only be between 0 and 256 inclusive.";
    return std::nullopt;
  }
  if (!rest.empty()) {
    *error = "Trailing garbage in weight string";
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

}  // namespace lb::health
