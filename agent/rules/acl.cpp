#include "agent/rules/acl.h"

#include <algorithm>

namespace lb::rules {

namespace {

Tri orTri(Tri a, Tri b) {
  if (a == Tri::kTrue || b == Tri::kTrue) return Tri::kTrue;
  if (a == Tri::kMiss || b == Tri::kMiss) return Tri::kMiss;
  return Tri::kFalse;
}

Tri notTri(Tri a) {
  if (a == Tri::kMiss) return a;
  return a == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
}

lb::v1::Acl makeAcl(const char* name, const char* fetch, std::vector<std::string> patterns) {
  lb::v1::Acl acl;
  acl.set_name(name);
  acl.set_fetch(fetch);
  for (auto& p : patterns) acl.add_patterns(p);
  return acl;
}

const std::vector<lb::v1::Acl>& predefined() {
  static const std::vector<lb::v1::Acl> acls = {
      makeAcl("TRUE", "always_true", {}),
      makeAcl("FALSE", "always_false", {}),
      makeAcl("LOCALHOST", "src", {"127.0.0.1/8", "::1"}),
      makeAcl("WAIT_END", "wait_end", {}),
      makeAcl("REQ_CONTENT", "req.len", {"gt 0"}),
  };
  return acls;
}

}  // namespace

Tri AclExpr::evaluate(Facts& facts) const {
  Sample sample = fetch.read(facts);
  if (matcher.match(sample)) return Tri::kTrue;
  return sample.may_change ? Tri::kMiss : Tri::kFalse;
}

Tri NamedAcl::evaluate(Facts& facts) const {
  Tri result = Tri::kFalse;
  for (const auto& expr : exprs) {
    result = orTri(result, expr.evaluate(facts));
    if (result == Tri::kTrue) break;
  }
  return result;
}

const lb::v1::Acl* predefinedAcl(std::string_view name) {
  for (const auto& acl : predefined()) {
    if (acl.name() == name) return &acl;
  }
  return nullptr;
}

std::optional<AclExpr> compileAcl(const lb::v1::Acl& acl, std::string& error) {
  auto fetch = Fetch::parse(acl.fetch(), error);
  if (!fetch) return std::nullopt;
  MatchMethod method = fetch->defaultMethod();
  if (!acl.match().empty()) {
    auto named = matchMethodByName(acl.match());
    if (!named) {
      error = "unknown match method '-m " + acl.match() +
              "' (known: str, beg, end, sub, reg, dom, bin, len, int, ip, found, bool)";
      return std::nullopt;
    }
    method = *named;
  }
  std::vector<std::string> patterns(acl.patterns().begin(), acl.patterns().end());
  // Integer fetches take "ge 10" as an operator and a value: one pattern.
  if (method == MatchMethod::kInt || method == MatchMethod::kLen) {
    std::vector<std::string> merged;
    for (size_t i = 0; i < patterns.size(); ++i) {
      const std::string& p = patterns[i];
      if ((p == "eq" || p == "ge" || p == "gt" || p == "le" || p == "lt") &&
          i + 1 < patterns.size()) {
        merged.push_back(p + " " + patterns[++i]);
      } else {
        merged.push_back(p);
      }
    }
    patterns = std::move(merged);
    if (fetch->kind == FetchKind::kSslVer && method == MatchMethod::kInt) {
      // req.ssl_ver patterns are versions: "3.1" is TLS 1.0.
      std::vector<std::string> converted;
      for (const auto& p : patterns) {
        auto range = parseIntPattern(p, true, error);
        if (!range) return std::nullopt;
        converted.push_back(std::to_string(range->first) + ":" + std::to_string(range->second));
      }
      patterns = std::move(converted);
    }
  }
  if ((method == MatchMethod::kBool || method == MatchMethod::kFound) && !patterns.empty()) {
    // `acl x always_true` with nothing else is the usual form; a pattern is a mistake.
  }
  if (patterns.empty() && method != MatchMethod::kBool && method != MatchMethod::kFound) {
    error = "ACL on '" + acl.fetch() +
            "' has no pattern to match (add one, a '-f FILE', or '-m found')";
    return std::nullopt;
  }
  auto matcher = Matcher::compile(method, acl.ignore_case(), patterns, error);
  if (!matcher) return std::nullopt;
  return AclExpr{std::move(*fetch), std::move(*matcher)};
}

Tri Condition::evaluate(Facts& facts) const {
  if (any_of.empty()) return Tri::kTrue;
  Tri result = Tri::kFalse;
  for (const auto& all_of : any_of) {
    Tri conj = Tri::kTrue;
    for (const auto& term : all_of) {
      Tri t = term.named != nullptr ? term.named->evaluate(facts) : term.anonymous->evaluate(facts);
      if (term.negate) t = notTri(t);
      if (t == Tri::kFalse) {
        conj = Tri::kFalse;
        break;
      }
      if (t == Tri::kMiss) conj = Tri::kMiss;
    }
    result = orTri(result, conj);
    if (result == Tri::kTrue) break;
  }
  return unless ? notTri(result) : result;
}

bool Condition::readsPayload() const {
  for (const auto& all_of : any_of) {
    for (const auto& term : all_of) {
      if (term.anonymous && term.anonymous->fetch.readsPayload()) return true;
      if (term.named != nullptr) {
        for (const auto& expr : term.named->exprs) {
          if (expr.fetch.readsPayload()) return true;
        }
      }
    }
  }
  return false;
}

bool AclSet::compile(const google::protobuf::RepeatedPtrField<lb::v1::Acl>& acls,
                     std::string& error) {
  for (const auto& acl : acls) {
    auto expr = compileAcl(acl, error);
    if (!expr) {
      error = "acl '" + acl.name() + "': " + error;
      return false;
    }
    NamedAcl* named = nullptr;
    for (auto& existing : named_) {
      if (existing->name == acl.name()) named = existing.get();
    }
    if (named == nullptr) {
      named_.push_back(std::make_unique<NamedAcl>());
      named = named_.back().get();
      named->name = acl.name();
    }
    named->exprs.push_back(std::move(*expr));
  }
  return true;
}

bool AclSet::bind(Binder& binder, std::string& error) {
  for (auto& named : named_) {
    for (auto& expr : named->exprs) {
      if (!expr.fetch.bind(binder, error)) {
        error = "acl '" + named->name + "': " + error;
        return false;
      }
    }
  }
  return true;
}

const NamedAcl* AclSet::find(std::string_view name) const {
  for (const auto& named : named_) {
    if (named->name == name) return named.get();
  }
  return nullptr;
}

std::optional<Condition> AclSet::condition(const lb::v1::Condition& spec, Binder* binder,
                                           std::string& error) {
  Condition out;
  out.unless = spec.unless();
  for (const auto& all_of : spec.any_of()) {
    std::vector<Condition::Term> terms;
    for (const auto& term : all_of.terms()) {
      Condition::Term t;
      t.negate = term.negate();
      if (term.has_anonymous()) {
        auto expr = compileAcl(term.anonymous(), error);
        if (!expr) {
          error = "anonymous ACL '{ " + term.anonymous().fetch() + " ... }': " + error;
          return std::nullopt;
        }
        if (binder != nullptr && !expr->fetch.bind(*binder, error)) return std::nullopt;
        t.anonymous = std::make_shared<AclExpr>(std::move(*expr));
      } else {
        t.named = find(term.acl());
        if (t.named == nullptr) {
          if (const lb::v1::Acl* pre = predefinedAcl(term.acl())) {
            auto expr = compileAcl(*pre, error);
            if (!expr) return std::nullopt;
            auto named = std::make_unique<NamedAcl>();
            named->name = pre->name();
            named->exprs.push_back(std::move(*expr));
            named_.push_back(std::move(named));
            t.named = named_.back().get();
          } else {
            std::string known;
            for (const auto& n : named_) known += (known.empty() ? "" : ", ") + n->name;
            error = "unknown ACL '" + term.acl() + "'" +
                    (known.empty() ? " (this section declares none)"
                                   : " (declared here: " + known + ")");
            return std::nullopt;
          }
        }
      }
      terms.push_back(std::move(t));
    }
    if (!terms.empty()) out.any_of.push_back(std::move(terms));
  }
  return out;
}

}  // namespace lb::rules
