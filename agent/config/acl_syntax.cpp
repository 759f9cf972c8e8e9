#include "agent/config/acl_syntax.h"

#include <fstream>

#include "agent/rules/acl.h"

namespace lb::config {

namespace {

bool readPatternFile(const std::string& path, lb::v1::Acl& acl, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read pattern file '" + path + "' given with '-f'";
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    auto last = line.find_last_not_of(" \t\r");
    acl.add_patterns(line.substr(first, last - first + 1));
  }
  acl.add_pattern_files(path);
  return true;
}

std::string quoteIfNeeded(const std::string& word) {
  if (!word.empty() && word.find_first_of(" \t#\"'\\") == std::string::npos) return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

bool parseAclWords(const std::vector<std::string>& words, size_t begin, size_t end,
                   lb::v1::Acl& acl, std::string& error) {
  if (begin >= end) {
    error = "an ACL needs a fetch, e.g. 'src 10.0.0.0/8' or 'req.ssl_sni -i example.com'";
    return false;
  }
  acl.set_fetch(words[begin]);
  size_t i = begin + 1;
  for (; i < end; ++i) {
    const std::string& w = words[i];
    if (w.size() < 2 || w[0] != '-') break;
    if (w == "--") {
      ++i;
      break;
    }
    if (w == "-i") {
      acl.set_ignore_case(true);
    } else if (w == "-n" || w == "-M") {
      // -n: no pattern files; -M: load -f files as maps. Nothing to do for lb.
    } else if (w == "-m" || w == "-f" || w == "-u") {
      if (i + 1 >= end) {
        error = "'" + w + "' needs an argument";
        return false;
      }
      const std::string& arg = words[++i];
      if (w == "-m") acl.set_match(arg);
      if (w == "-f" && !readPatternFile(arg, acl, error)) return false;
    } else {
      // Not a flag: a negative number, for instance. Patterns start here.
      break;
    }
  }
  for (; i < end; ++i) acl.add_patterns(words[i]);
  auto compiled = rules::compileAcl(acl, error);
  return compiled.has_value();
}

size_t findCondition(const std::vector<std::string>& words, size_t from) {
  int depth = 0;
  for (size_t i = from; i < words.size(); ++i) {
    if (words[i] == "{") ++depth;
    if (words[i] == "}") --depth;
    if (depth == 0 && (words[i] == "if" || words[i] == "unless")) return i;
  }
  return words.size();
}

std::optional<lb::v1::Condition> parseCondition(const std::vector<std::string>& words, size_t begin,
                                                std::string& error) {
  lb::v1::Condition cond;
  cond.set_unless(words[begin] == "unless");
  auto* all_of = cond.add_any_of();
  size_t i = begin + 1;
  if (i >= words.size()) {
    error = "'" + words[begin] + "' needs a condition, e.g. '" + words[begin] + " is_ssl'";
    return std::nullopt;
  }
  bool negate = false;
  for (; i < words.size(); ++i) {
    std::string w = words[i];
    if (w == "||" || w == "or") {
      if (negate || all_of->terms_size() == 0) {
        error = "'" + w + "' needs an ACL on both sides";
        return std::nullopt;
      }
      all_of = cond.add_any_of();
      continue;
    }
    if (w == "!") {
      negate = !negate;
      continue;
    }
    while (!w.empty() && w[0] == '!') {
      negate = !negate;
      w.erase(0, 1);
    }
    auto* term = all_of->add_terms();
    term->set_negate(negate);
    negate = false;
    if (w == "{") {
      size_t close = i + 1;
      while (close < words.size() && words[close] != "}") ++close;
      if (close == words.size()) {
        error = "'{' without its closing '}' (braces are words of their own: '{ src 10.0.0.1 }')";
        return std::nullopt;
      }
      if (!parseAclWords(words, i + 1, close, *term->mutable_anonymous(), error)) {
        error = "in '{ ... }': " + error;
        return std::nullopt;
      }
      i = close;
      continue;
    }
    if (w == "}" || w.empty() || w == "if" || w == "unless") {
      error = "unexpected '" + words[i] + "' in the condition";
      return std::nullopt;
    }
    if (w[0] == '{' || w.back() == '}') {
      error = "'" + w + "': braces must be separate words, e.g. '{ src 10.0.0.1 }'";
      return std::nullopt;
    }
    term->set_acl(w);
  }
  if (negate || all_of->terms_size() == 0) {
    error = "the condition ends without an ACL";
    return std::nullopt;
  }
  return cond;
}

std::string renderAclBody(const lb::v1::Acl& acl) {
  std::string out = acl.fetch();
  if (!acl.match().empty()) out += " -m " + acl.match();
  if (acl.ignore_case()) out += " -i";
  bool dash = false;
  for (const auto& p : acl.patterns()) {
    if (!dash && !p.empty() && p[0] == '-') {
      out += " --";
      dash = true;
    }
    out += " " + quoteIfNeeded(p);
  }
  return out;
}

namespace {

std::string durationText(const google::protobuf::Duration& d) {
  int64_t ms = d.seconds() * 1000 + d.nanos() / 1'000'000;
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string withCondition(std::string line, const lb::v1::Condition& condition, bool has) {
  if (has && condition.any_of_size() > 0) line += " " + renderCondition(condition);
  return "    " + line + "\n";
}

std::string tcpRuleLine(const char* keyword, const lb::v1::TcpRule& rule) {
  static const char* kStages[] = {"", "connection", "session", "content", "content"};
  std::string line = std::string(keyword) + " " + kStages[rule.stage()] + " " + rule.action();
  for (const auto& arg : rule.args()) line += " " + quoteIfNeeded(arg);
  return withCondition(line, rule.condition(), rule.has_condition());
}

std::string stickTableLine(const lb::v1::StickTable& t) {
  static const char* kTypes[] = {"", "ip", "ipv6", "integer", "string", "binary"};
  std::string line = std::string("    stick-table type ") + kTypes[t.type()];
  if (t.has_len()) line += " len " + std::to_string(t.len());
  line += " size " + std::to_string(t.size());
  if (t.has_expire()) line += " expire " + durationText(t.expire());
  if (t.nopurge()) line += " nopurge";
  if (!t.peers().empty()) line += " peers " + t.peers();
  std::string store;
  for (const auto& item : t.store()) store += (store.empty() ? "" : ",") + item;
  if (!store.empty()) line += " store " + store;
  return line + "\n";
}

std::string aclLines(const google::protobuf::RepeatedPtrField<lb::v1::Acl>& acls) {
  std::string out;
  for (const auto& acl : acls) out += "    acl " + acl.name() + " " + renderAclBody(acl) + "\n";
  return out;
}

}  // namespace

std::string renderRules(const lb::v1::Frontend& fe) {
  std::string out = aclLines(fe.acls());
  if (fe.has_stick_table()) out += stickTableLine(fe.stick_table());
  if (fe.has_inspect_delay()) {
    out += "    tcp-request inspect-delay " + durationText(fe.inspect_delay()) + "\n";
  }
  for (const auto& rule : fe.tcp_request()) out += tcpRuleLine("tcp-request", rule);
  for (const auto& rule : fe.use_backend()) {
    out += withCondition("use_backend " + rule.backend(), rule.condition(), rule.has_condition());
  }
  return out;
}

std::string renderRules(const lb::v1::Backend& be) {
  std::string out = aclLines(be.acls());
  if (be.has_stick_table()) out += stickTableLine(be.stick_table());
  if (be.has_inspect_delay()) {
    out += "    tcp-request inspect-delay " + durationText(be.inspect_delay()) + "\n";
  }
  for (const auto& rule : be.tcp_request()) out += tcpRuleLine("tcp-request", rule);
  for (const auto& rule : be.tcp_response()) out += tcpRuleLine("tcp-response", rule);
  for (const auto& rule : be.use_server()) {
    out += withCondition("use-server " + rule.server(), rule.condition(), rule.has_condition());
  }
  static const char* kKinds[] = {"", "on", "match", "store-request"};
  for (const auto& rule : be.stick()) {
    std::string line = std::string("stick ") + kKinds[rule.kind()] + " " + rule.expr();
    if (!rule.table().empty()) line += " table " + rule.table();
    out += withCondition(line, rule.condition(), rule.has_condition());
  }
  return out;
}

std::string renderCondition(const lb::v1::Condition& condition) {
  std::string out = condition.unless() ? "unless" : "if";
  bool first_group = true;
  for (const auto& all_of : condition.any_of()) {
    if (!first_group) out += " ||";
    first_group = false;
    for (const auto& term : all_of.terms()) {
      out += " ";
      if (term.negate()) out += "!";
      if (term.has_anonymous()) {
        out += "{ " + renderAclBody(term.anonymous()) + " }";
      } else {
        out += term.acl();
      }
    }
  }
  return out;
}

}  // namespace lb::config
