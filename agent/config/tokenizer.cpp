#include "agent/config/tokenizer.h"

#include <cctype>
#include <cstdlib>

namespace lb::config {

EnvLookup processEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isVarChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

std::optional<std::vector<std::string>> tokenize(std::string_view line, const EnvLookup& env,
                                                 std::string* error) {
  // HAProxy 2.6's parse_line() with the options cfgparse.c gives it (PARSE_OPT_ENV, DQUOTE,
  // SQUOTE, BKSLASH, SHARP, WORD_EXPAND).
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // true once a word has started, even if it is "" (two quotes)
  char quote = 0;        // the open quote character, or 0
  auto position = [&](size_t at) { return " at position " + std::to_string(at + 1); };
  auto finishWord = [&] {
    if (in_word) words.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    if (c == '\n' || c == '\r') break;  // HAProxy ends the line there
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        word += c;
      }
      ++i;
      continue;
    }
    if (quote == 0 && std::isspace(static_cast<unsigned char>(c))) {
      finishWord();
      ++i;
      continue;
    }
    if (quote == 0 && c == '#') break;
    in_word = true;
    if (c == '"') {
      quote = quote == '"' ? 0 : '"';
      ++i;
      continue;
    }
    if (c == '\'' && quote == 0) {
      quote = '\'';
      ++i;
      continue;
    }
    if (c == '\\') {
      // Only these sequences mean something; any other backslash is kept as it is (\1 stays
      // \1, a backslash at the end of the line stays a backslash).
      char next = i + 1 < line.size() ? line[i + 1] : '\0';
      switch (next) {
        case ' ':
        case '\\':
        case '#':
        case '\'':
        case '"':
          word += next;
          i += 2;
          continue;
        case 't':
          word += '\t';
          i += 2;
          continue;
        case 'n':
          word += '\n';
          i += 2;
          continue;
        case 'r':
          word += '\r';
          i += 2;
          continue;
        case '$':
          if (quote == '"') {  // \$ is a literal '$' inside double quotes only
            word += '$';
            i += 2;
            continue;
          }
          break;
        case 'x': {
          int hi = i + 2 < line.size() ? hexValue(line[i + 2]) : -1;
          int lo = i + 3 < line.size() ? hexValue(line[i + 3]) : -1;
          if (hi < 0 || lo < 0) {
            *error = "truncated or invalid hexadecimal sequence" + position(i) +
                     " ('\\x' must be followed by two hexadecimal digits)";
            return std::nullopt;
          }
          word += static_cast<char>(hi * 16 + lo);
          i += 4;
          continue;
        }
        default:
          break;
      }
      word += c;
      ++i;
      continue;
    }
    if (c == '$' && quote == '"') {
      // "$NAME", "${NAME}", "${NAME-default}" (default when NAME is not set), "${NAME[*]}"
      // (each blank-separated part of the value is a word), "$.LINE", "$.FILE", "$.SECTION".
      size_t at = i + 1;
      std::optional<size_t> brace;
      if (at < line.size() && line[at] == '{') brace = at++;
      if (at >= line.size() || !(std::isalpha(static_cast<unsigned char>(line[at])) ||
                                 line[at] == '_' || line[at] == '.')) {
        *error = "forbidden first char in environment variable name" + position(at) +
                 " (write \\$ for a literal '$' inside double quotes)";
        return std::nullopt;
      }
      size_t name_start = at;
      if (line[at] == '.') ++at;
      while (at < line.size() && isVarChar(line[at])) ++at;
      std::string name(line.substr(name_start, at - name_start));
      std::optional<std::string> value;
      if (name[0] == '.') {
        if (name != ".LINE" && name != ".FILE" && name != ".SECTION") {
          *error = "unknown internal variable '" + name + "'" + position(name_start) +
                   " (use .LINE, .FILE or .SECTION)";
          return std::nullopt;
        }
      }
      value = env(name);
      bool expand_words = false;
      if (brace && at < line.size() && line[at] == '[') {
        if (line.substr(at, 3) != "[*]") {
          *error = "truncated or invalid word expansion sequence" + position(at);
          return std::nullopt;
        }
        expand_words = true;
        at += 3;
      }
      if (brace) {
        if (at < line.size() && line[at] == '-') {
          size_t close = line.find('}', at);
          if (close == std::string_view::npos) {
            *error = "unmatched brace in environment variable name" + position(*brace);
            return std::nullopt;
          }
          if (!value) value = std::string(line.substr(at + 1, close - at - 1));
          at = close;
        } else if (at >= line.size() || line[at] != '}') {
          *error = "unmatched brace in environment variable name" + position(*brace);
          return std::nullopt;
        }
        ++at;  // the '}'
      }
      if (value) {
        for (size_t k = 0; k < value->size(); ++k) {
          char v = (*value)[k];
          if (expand_words && std::isspace(static_cast<unsigned char>(v))) {
            words.push_back(std::move(word));
            word.clear();
            while (k + 1 < value->size() &&
                   std::isspace(static_cast<unsigned char>((*value)[k + 1])))
              ++k;
          } else {
            word += v;
          }
        }
      }
      i = at;
      continue;
    }
    word += c;
    ++i;
  }
  if (quote != 0) {
    *error = std::string("unterminated ") + (quote == '"' ? "double" : "single") + " quote";
    return std::nullopt;
  }
  finishWord();
  return words;
}

std::string expandAddressEnv(std::string_view text, const EnvLookup& env) {
  // HAProxy's env_expand(), which str2sa_range() applies to every address: "$NAME" and
  // "${NAME}" anywhere, an unset name gives "".
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$') {
      out += text[i++];
      continue;
    }
    size_t start = i + 1;
    bool braced = start < text.size() && text[start] == '{';
    if (braced) ++start;
    size_t end = start;
    while (end < text.size() && isVarChar(text[end])) ++end;
    if (auto value = env(text.substr(start, end - start))) out += *value;
    i = end;
    if (braced && end < text.size() && text[end] == '}') ++i;
  }
  return out;
}

}  // namespace lb::config
