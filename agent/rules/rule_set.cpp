#include "agent/rules/rule_set.h"

#include <charconv>

namespace lb::rules {

namespace {

// "sc-inc-gpc0(1)" -> 1 (the counter number; 0 when no parentheses).
std::optional<int> counterOf(const std::string& action, std::string_view prefix) {
  std::string_view rest = std::string_view(action).substr(prefix.size());
  if (rest.empty()) return 0;
  if (rest.front() != '(' || rest.back() != ')') return std::nullopt;
  auto n = parseInteger(rest.substr(1, rest.size() - 2));
  if (!n || *n < 0 || *n > 2) return std::nullopt;
  return static_cast<int>(*n);
}

bool startsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::optional<Action> compileAction(const lb::v1::TcpRule& rule, Binder* binder,
                                    std::string& error) {
  Action a;
  const std::string& name = rule.action();
  const auto& args = rule.args();
  auto noArgs = [&] {
    if (args.empty()) return true;
    error = "'" + name + "' takes no argument";
    return false;
  };
  if (name == "accept" || name == "reject" || name == "silent-drop") {
    if (!noArgs()) return std::nullopt;
    a.kind = name == "accept"   ? Action::Kind::kAccept
             : name == "reject" ? Action::Kind::kReject
                                : Action::Kind::kSilentDrop;
    return a;
  }
  if (name == "expect-proxy") {
    if (args.size() != 1 || args[0] != "layer4") {
      error = "'expect-proxy' needs 'layer4' ('tcp-request connection expect-proxy layer4')";
      return std::nullopt;
    }
    if (rule.stage() != lb::v1::TcpRule::CONNECTION) {
      error = "'expect-proxy layer4' is only allowed in 'tcp-request connection' rules";
      return std::nullopt;
    }
    a.kind = Action::Kind::kExpectProxy;
    return a;
  }
  if (startsWith(name, "track-sc") && name.size() == 9 && name[8] >= '0' && name[8] <= '2') {
    a.kind = Action::Kind::kTrack;
    a.counter = name[8] - '0';
    if (args.empty()) {
      error = "'" + name + "' needs a key, e.g. '" + name + " src'";
      return std::nullopt;
    }
    std::string table;
    if (args.size() == 3 && args[1] == "table") {
      table = args[2];
    } else if (args.size() != 1) {
      error = "'" + name + " KEY [table TABLE]' expected";
      return std::nullopt;
    }
    a.key = Fetch::parse(args[0], error);
    if (!a.key) return std::nullopt;
    if (rule.stage() != lb::v1::TcpRule::CONTENT && a.key->readsPayload()) {
      error = "'" + name + " " + args[0] +
              "' reads the client's bytes, which only 'tcp-request content' rules can";
      return std::nullopt;
    }
    if (binder != nullptr) {
      if (!a.key->bind(*binder, error)) return std::nullopt;
      a.table = binder->table(table, error);
      if (!a.table) return std::nullopt;
    }
    return a;
  }
  for (std::string_view prefix : {"sc-inc-gpc0", "sc-inc-gpc1"}) {
    if (!startsWith(name, prefix)) continue;
    auto counter = counterOf(name, prefix);
    if (!counter || !noArgs()) {
      if (error.empty()) error = "'" + name + "': write it as " + std::string(prefix) + "(0..2)";
      return std::nullopt;
    }
    a.kind = Action::Kind::kIncGpc;
    a.counter = *counter;
    a.gpc = prefix.back() == '0' ? StickData::kGpc0 : StickData::kGpc1;
    return a;
  }
  if (startsWith(name, "sc-set-gpt0")) {
    auto counter = counterOf(name, "sc-set-gpt0");
    auto value = args.size() == 1 ? parseInteger(args[0]) : std::nullopt;
    if (!counter || !value) {
      error = "'" + name + "': write it as 'sc-set-gpt0(0..2) INTEGER'";
      return std::nullopt;
    }
    a.kind = Action::Kind::kSetGpt0;
    a.counter = *counter;
    a.value = *value;
    return a;
  }
  if (startsWith(name, "set-var(") || startsWith(name, "unset-var(") ||
      startsWith(name, "set-var-fmt(") || name == "capture") {
    a.kind = Action::Kind::kNoop;
    return a;
  }
  error = "unsupported action '" + name +
          "' (lb's tcp-request actions: accept, reject, silent-drop, track-sc0/1/2, "
          "sc-inc-gpc0/1, sc-set-gpt0, expect-proxy layer4; set-var, unset-var and capture are "
          "accepted and have no effect)";
  return std::nullopt;
}

std::string at(std::string_view field, int i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

}  // namespace

RulesSpec rulesOf(const lb::v1::Frontend& frontend) {
  RulesSpec spec;
  spec.acls = &frontend.acls();
  spec.tcp_request = &frontend.tcp_request();
  spec.inspect_delay = frontend.has_inspect_delay() ? &frontend.inspect_delay() : nullptr;
  spec.use_backend = &frontend.use_backend();
  return spec;
}

RulesSpec rulesOf(const lb::v1::Backend& backend) {
  RulesSpec spec;
  spec.acls = &backend.acls();
  spec.tcp_request = &backend.tcp_request();
  spec.inspect_delay = backend.has_inspect_delay() ? &backend.inspect_delay() : nullptr;
  spec.use_server = &backend.use_server();
  spec.stick = &backend.stick();
  return spec;
}

std::optional<std::vector<NamePart>> parseNameFormat(const std::string& text, std::string& error) {
  std::vector<NamePart> parts;
  size_t i = 0;
  bool dynamic = false;
  while (i < text.size()) {
    auto start = text.find("%[", i);
    if (start == std::string::npos) {
      parts.push_back({text.substr(i), std::nullopt});
      break;
    }
    if (start > i) parts.push_back({text.substr(i, start - i), std::nullopt});
    auto end = text.find(']', start);
    if (end == std::string::npos) {
      error = "'" + text + "': '%[' without its closing ']'";
      return std::nullopt;
    }
    auto fetch = Fetch::parse(text.substr(start + 2, end - start - 2), error);
    if (!fetch) return std::nullopt;
    parts.push_back({{}, std::move(fetch)});
    dynamic = true;
    i = end + 1;
  }
  if (!dynamic) parts.clear();
  return parts;
}

std::optional<std::string> renderName(const std::vector<NamePart>& format, Facts& facts,
                                      bool& wait) {
  std::string name;
  for (const auto& part : format) {
    if (!part.fetch) {
      name += part.text;
      continue;
    }
    Sample s = part.fetch->read(facts);
    if (s.type == Sample::Type::kNone) {
      wait = s.may_change;
      return std::nullopt;
    }
    name += s.toString();
  }
  return name;
}

std::unique_ptr<ProxyRules> compileRules(const RulesSpec& spec, Binder* binder, std::string& path,
                                         std::string& error) {
  auto rules = std::make_unique<ProxyRules>();
  if (spec.acls != nullptr) {
    // Each line alone first, so that an error names its own line (acls[i]).
    for (int i = 0; i < spec.acls->size(); ++i) {
      const auto& acl = spec.acls->Get(i);
      auto expr = compileAcl(acl, error);
      if (expr && binder != nullptr && !expr->fetch.bind(*binder, error)) expr.reset();
      if (!expr) {
        path = at("acls", i);
        error = "acl '" + acl.name() + "': " + error;
        return nullptr;
      }
    }
    if (!rules->acls.compile(*spec.acls, error)) {
      path = "acls";
      return nullptr;
    }
    if (binder != nullptr && !rules->acls.bind(*binder, error)) {
      path = "acls";
      return nullptr;
    }
  }
  auto condition = [&](const lb::v1::Condition& c, bool has) -> std::optional<Condition> {
    if (!has) return Condition{};
    return rules->acls.condition(c, binder, error);
  };
  if (spec.inspect_delay != nullptr) {
    rules->inspect_delay = std::chrono::milliseconds(spec.inspect_delay->seconds() * 1000 +
                                                     spec.inspect_delay->nanos() / 1'000'000);
  }
  if (spec.tcp_request != nullptr) {
    for (int i = 0; i < spec.tcp_request->size(); ++i) {
      const auto& r = spec.tcp_request->Get(i);
      path = at("tcp_request", i);
      auto action = compileAction(r, binder, error);
      if (!action) return nullptr;
      auto cond = condition(r.condition(), r.has_condition());
      if (!cond) return nullptr;
      Rule rule{std::move(*cond), std::move(*action)};
      switch (r.stage()) {
        case lb::v1::TcpRule::CONNECTION:
          rules->connection.push_back(std::move(rule));
          break;
        case lb::v1::TcpRule::SESSION:
          rules->session.push_back(std::move(rule));
          break;
        case lb::v1::TcpRule::CONTENT:
          if (rule.condition.readsPayload() ||
              (rule.action.key && rule.action.key->readsPayload())) {
            rules->reads_payload = true;
          }
          rules->content.push_back(std::move(rule));
          break;
        default:
          error = "a tcp-request rule needs its stage: connection, session or content";
          return nullptr;
      }
    }
  }
  if (spec.use_backend != nullptr) {
    for (int i = 0; i < spec.use_backend->size(); ++i) {
      const auto& u = spec.use_backend->Get(i);
      path = at("use_backend", i);
      auto cond = condition(u.condition(), u.has_condition());
      if (!cond) return nullptr;
      auto format = parseNameFormat(u.backend(), error);
      if (!format) return nullptr;
      for (auto& part : *format) {
        if (part.fetch && binder != nullptr && !part.fetch->bind(*binder, error)) return nullptr;
        if (part.fetch && part.fetch->readsPayload()) rules->reads_payload = true;
      }
      if (cond->readsPayload()) rules->reads_payload = true;
      rules->use_backend.push_back({std::move(*cond), u.backend(), std::move(*format)});
    }
  }
  if (spec.use_server != nullptr) {
    for (int i = 0; i < spec.use_server->size(); ++i) {
      const auto& u = spec.use_server->Get(i);
      path = at("use_server", i);
      auto cond = condition(u.condition(), u.has_condition());
      if (!cond) return nullptr;
      rules->use_server.push_back({std::move(*cond), u.server()});
    }
  }
  if (spec.stick != nullptr) {
    for (int i = 0; i < spec.stick->size(); ++i) {
      const auto& s = spec.stick->Get(i);
      path = at("stick", i);
      auto expr = Fetch::parse(s.expr(), error);
      if (!expr) return nullptr;
      auto cond = condition(s.condition(), s.has_condition());
      if (!cond) return nullptr;
      StickRule rule{s.kind(), std::move(*expr), nullptr, std::move(*cond)};
      if (binder != nullptr) {
        if (!rule.expr.bind(*binder, error)) return nullptr;
        rule.table = binder->table(s.table(), error);
        if (!rule.table) return nullptr;
      }
      rules->stick.push_back(std::move(rule));
    }
  }
  path.clear();
  return rules;
}

Verdict runRules(const std::vector<Rule>& rules, size_t& next, Facts& facts, bool* expect_proxy) {
  for (; next < rules.size(); ++next) {
    const Rule& rule = rules[next];
    Tri holds = rule.condition.evaluate(facts);
    if (holds == Tri::kMiss) {
      if (!facts.final) return Verdict::kWait;
      holds = Tri::kFalse;
    }
    if (holds == Tri::kFalse) continue;
    const Action& a = rule.action;
    switch (a.kind) {
      case Action::Kind::kAccept:
        next = rules.size();
        return Verdict::kContinue;
      case Action::Kind::kReject:
        return Verdict::kReject;
      case Action::Kind::kSilentDrop:
        return Verdict::kSilentDrop;
      case Action::Kind::kTrack: {
        if (facts.tracked == nullptr || !a.table) break;
        Sample key = a.key->read(facts);
        if (key.type == Sample::Type::kNone) {
          if (key.may_change && !facts.final) return Verdict::kWait;
          break;
        }
        if (auto k = a.table->keyOf(key)) facts.tracked->track(a.counter, a.table, *k, facts.now);
        break;
      }
      case Action::Kind::kIncGpc:
      case Action::Kind::kSetGpt0: {
        if (facts.tracked == nullptr) break;
        const auto& slot = facts.tracked->slot(a.counter);
        if (slot.entry == nullptr) break;
        if (a.kind == Action::Kind::kIncGpc) {
          slot.table->increment(slot.entry, a.gpc, facts.now);
        } else {
          slot.table->set(slot.entry, StickData::kGpt0, a.value, facts.now);
        }
        break;
      }
      case Action::Kind::kExpectProxy:
        if (expect_proxy != nullptr) *expect_proxy = true;
        break;
      case Action::Kind::kNoop:
        break;
    }
  }
  return Verdict::kContinue;
}

}  // namespace lb::rules
