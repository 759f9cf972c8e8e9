#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/rules/fetch.h"
#include "agent/rules/pattern.h"
#include "lb/v1/config.pb.h"

namespace lb::rules {

// Three-valued result of an ACL or a condition: kMiss means "cannot tell yet": the rule waits
// for more of the client's bytes (until inspect-delay), as HAProxy's ACL_TEST_MISS.
enum class Tri : uint8_t { kFalse, kTrue, kMiss };

// One `acl` expression: a fetch and its compiled patterns.
struct AclExpr {
  Fetch fetch;
  Matcher matcher;
  Tri evaluate(Facts& facts) const;
};

// A named ACL: all `acl NAME ...` lines of that name (they are ORed), or a predefined one.
struct NamedAcl {
  std::string name;
  std::vector<AclExpr> exprs;
  Tri evaluate(Facts& facts) const;
};

// Compiles one ACL line. Errors say what is wrong with it (the caller adds where).
std::optional<AclExpr> compileAcl(const lb::v1::Acl& acl, std::string& error);

// HAProxy's predefined ACLs lb supports (TRUE, FALSE, LOCALHOST, WAIT_END, REQ_CONTENT); null
// for other names.
const lb::v1::Acl* predefinedAcl(std::string_view name);

// A compiled `if`/`unless` condition.
class Condition {
 public:
  struct Term {
    bool negate = false;
    const NamedAcl* named = nullptr;           // into the proxy's ACLs
    std::shared_ptr<const AclExpr> anonymous;  // `{ ... }`
  };
  bool unless = false;
  std::vector<std::vector<Term>> any_of;  // empty: always true (a rule without condition)

  Tri evaluate(Facts& facts) const;
  bool empty() const { return any_of.empty(); }
  // Whether any term reads the client's bytes.
  bool readsPayload() const;
  bool layer4() const { return !readsPayload(); }
};

// The named ACLs of a proxy, compiled, with the lookup conditions use.
class AclSet {
 public:
  // Compiles `acls` (same names merge); on error, `error` names the offending ACL.
  bool compile(const google::protobuf::RepeatedPtrField<lb::v1::Acl>& acls, std::string& error);
  // Binds counters and tables of every expression.
  bool bind(Binder& binder, std::string& error);
  // Compiles a condition against these ACLs (unknown names fail with a did-you-mean).
  std::optional<Condition> condition(const lb::v1::Condition& spec, Binder* binder,
                                     std::string& error);
  const NamedAcl* find(std::string_view name) const;

 private:
  std::vector<std::unique_ptr<NamedAcl>> named_;
};

}  // namespace lb::rules
