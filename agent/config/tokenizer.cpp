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
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // true once a word has started, even if it is "" (two quotes)
  char quote = 0;        // the open quote character, or 0
  size_t i = 0;
  auto finishWord = [&] {
    if (in_word) words.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  while (i < line.size()) {
    char c = line[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        word += c;
      }
      ++i;
      continue;
    }
    if (quote == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
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
      if (i + 1 >= line.size()) {
        *error = "backslash at end of line (line continuation is not supported)";
        return std::nullopt;
      }
      char next = line[i + 1];
      i += 2;
      switch (next) {
        case 'r':
          word += '\r';
          break;
        case 'n':
          word += '\n';
          break;
        case 't':
          word += '\t';
          break;
        case 'x': {
          int hi = i < line.size() ? hexValue(line[i]) : -1;
          int lo = i + 1 < line.size() ? hexValue(line[i + 1]) : -1;
          if (hi < 0 || lo < 0) {
            *error = "'\\x' must be followed by two hexadecimal digits";
            return std::nullopt;
          }
          word += static_cast<char>(hi * 16 + lo);
          i += 2;
          break;
        }
        default:
          word += next;
          break;
      }
      continue;
    }
    if (c == '$' && quote == '"') {
      size_t start = i + 1;
      bool braced = start < line.size() && line[start] == '{';
      size_t name_start = braced ? start + 1 : start;
      size_t end = name_start;
      while (end < line.size() && isVarChar(line[end])) ++end;
      if (braced && (end >= line.size() || line[end] != '}')) {
        *error = "unterminated '${' in environment variable reference";
        return std::nullopt;
      }
      if (end == name_start) {  // a lone '$' is literal
        word += c;
        ++i;
        continue;
      }
      if (auto value = env(line.substr(name_start, end - name_start))) word += *value;
      i = braced ? end + 1 : end;
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

}  // namespace lb::config
