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
