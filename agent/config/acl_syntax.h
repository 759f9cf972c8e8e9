#pragma once
// HAProxy's ACL grammar, words to model: `acl NAME FETCH [FLAGS] [PATTERNS]` lines and the
// `if|unless COND` conditions of rules (named ACLs, `!`, `||`/`or`, anonymous `{ ... }`).
// Pure functions of their words (plus pattern files for `-f`), fuzzed by
// tests/fuzz/acl_syntax_fuzz.cpp.

#include <optional>
#include <string>
#include <vector>

#include "lb/v1/config.pb.h"

namespace lb::config {

// Reads `FETCH [FLAGS] [PATTERNS...]` from words[begin, end) into `acl` (name untouched):
// flags -i, -m METHOD, -f FILE (patterns read now, one per line, '#' comments), -n, -M,
// -u ID, --. The fetch and patterns are checked as lb will run them. On error returns false
// with `error` set.
bool parseAclWords(const std::vector<std::string>& words, size_t begin, size_t end,
                   lb::v1::Acl& acl, std::string& error);

// Reads `if|unless TERMS...` from words[begin, end). `begin` at `if` or `unless`.
std::optional<lb::v1::Condition> parseCondition(const std::vector<std::string>& words, size_t begin,
                                                std::string& error);

// Finds the `if`/`unless` that starts a rule's condition (the first one outside braces); the
// number of words when there is none.
size_t findCondition(const std::vector<std::string>& words, size_t from);

// The condition as HAProxy text ("if is_ssl !blocked || { src 10.0.0.0/8 }") for the renderer.
std::string renderCondition(const lb::v1::Condition& condition);
// "FETCH [-m M] [-i] PATTERNS" for the renderer.
std::string renderAclBody(const lb::v1::Acl& acl);
// The rule lines of a frontend / backend (acl, stick-table, tcp-request, use_backend,
// use-server, stick), indented, one per line, in the order HAProxy evaluates them.
std::string renderRules(const lb::v1::Frontend& frontend);
std::string renderRules(const lb::v1::Backend& backend);

}  // namespace lb::config
