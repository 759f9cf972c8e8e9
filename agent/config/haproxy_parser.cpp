#include "agent/config/haproxy_parser.h"

#include <algorithm>
#include <cctype>

#include "agent/config/keyword_context.h"
#include "agent/config/lexical.h"
#include "agent/config/suggest.h"

namespace lb::config {

using detail::Cap;
using detail::KeywordContext;
using detail::ProxyDraft;

namespace {

// Sections HAProxy has that a TCP balancer does not use: skipped with one warning each.
constexpr std::string_view kIgnoredSections[] = {"userlist",    "peers", "mailers", "program",
                                                 "http-errors", "ring",  "cache"};

// The keywords of a `resolvers` section (HAProxy 2.6), read for their syntax only.
constexpr std::string_view kResolversKeywords[] = {
    "nameserver", "parse-resolv-conf", "accepted_payload_size", "resolve_retries", "hold",
    "timeout"};

std::vector<std::string> keywordNames(unsigned cap) {
  std::vector<std::string> names{"global", "defaults", "frontend", "backend", "listen"};
  auto add = [&](auto specs) {
    for (const auto& spec : specs) {
      if (spec.caps & cap) names.emplace_back(spec.name);
    }
  };
  add(detail::proxyKeywords());
  add(detail::ruleKeywords());
  add(detail::globalKeywords());
  add(detail::checkKeywords());
  add(detail::ignoredKeywords());
  if (cap & detail::kCapProxy) names.emplace_back("option");
  return names;
}

std::vector<std::string> optionNames(unsigned cap) {
  std::vector<std::string> names;
  auto add = [&](auto specs) {
    for (const auto& spec : specs) {
      if (spec.caps & cap) names.emplace_back(spec.name);
    }
  };
  add(detail::proxyOptions());
  add(detail::checkOptions());
  add(detail::ignoredOptions());
  return names;
}

std::string sectionWord(unsigned cap) {
  switch (cap) {
    case detail::kCapGlobal:
      return "global";
    case detail::kCapDefaults:
      return "defaults";
    case detail::kCapFrontend:
      return "frontend";
    case detail::kCapBackend:
      return "backend";
    default:
      return "listen";
  }
}

}  // namespace

HaproxyParser::HaproxyParser(lb::v1::Config& out, SourceMap& sources, Diagnostics& diag,
                             EnvLookup env)
    : out_(out), sources_(sources), diag_(diag), env_(std::move(env)) {
  address_env_ = [this](std::string_view name) { return lookupEnv(name); };
}

HaproxyParser::~HaproxyParser() = default;

std::optional<std::string> HaproxyParser::lookupEnv(std::string_view name) const {
  if (auto it = env_set_.find(name); it != env_set_.end()) return it->second;
  if (env_kept_ && env_kept_->count(name) == 0) return std::nullopt;
  return env_(name);
}

void HaproxyParser::parse(std::string_view text, const std::string& file) {
  // As in HAProxy, each file starts outside any section; only the defaults carry over.
  finish();
  int number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    ++number;
    pos = end + 1;
    Location where{file, number};
    if (line.find('\0') != std::string_view::npos) {
      diag_.error(where, "NUL character in line; is this a text file?");
      continue;
    }
    // HAProxy 2.6 refuses a file whose last line has no LF: it may have been cut short.
    if (end == text.size() && !line.empty()) {
      diag_.error(where, "missing LF on last line, file might have been truncated at position " +
                             std::to_string(line.size() + 1) +
                             " (HAProxy refuses it too; end the file with a newline)");
    }
    // $.LINE, $.FILE and $.SECTION are HAProxy's pseudo-variables.
    EnvLookup env = [&](std::string_view name) -> std::optional<std::string> {
      if (name == ".LINE") return std::to_string(number);
      if (name == ".FILE") return file;
      if (name == ".SECTION") return section_name_;
      return lookupEnv(name);
    };
    std::string error;
    auto words = tokenize(line, env, &error);
    if (!words) {
      diag_.error(where, error);
      continue;
    }
    if (!words->empty()) parseLine(std::move(*words), where);
    if (end == text.size()) break;
  }
}

void HaproxyParser::finish() {
  closeSection();
  section_ = Section::kNone;
}

void HaproxyParser::parseLine(std::vector<std::string> words, const Location& where) {
  if (openSection(words, where)) {
    section_name_ = words.size() > 1 ? words[1] : words[0];  // what HAProxy's $.SECTION says
    return;
  }
  switch (section_) {
    case Section::kIgnored:
      return;
    case Section::kResolvers:
      if (std::find(std::begin(kResolversKeywords), std::end(kResolversKeywords), words[0]) ==
          std::end(kResolversKeywords)) {
        std::vector<std::string> names(std::begin(kResolversKeywords),
                                       std::end(kResolversKeywords));
        diag_.error(where, "unknown keyword '" + words[0] + "' in 'resolvers' section" +
                               didYouMean(words[0], names));
      } else if (words[0] == "nameserver" && words.size() != 3) {
        diag_.error(where,
                    "'nameserver' expects a name and an address, e.g. 'nameserver dns1 "
                    "10.0.0.2:53'");
      }
      return;
    case Section::kNone:
      diag_.error(where, "'" + words[0] + "' outside of any section; start one with 'global', " +
                             "'defaults', 'frontend', 'backend' or 'listen'" +
                             didYouMean(words[0], keywordNames(detail::kCapProxy)));
      return;
    default:
      dispatch(words, where);
  }
}

const ProxyDraft* HaproxyParser::findDefaults(const std::string& name, const Location& where) {
  auto it = named_defaults_.find(name);
  if (it != named_defaults_.end()) return it->second.get();
  std::vector<std::string> names;
  for (const auto& [known, _] : named_defaults_) names.push_back(known);
  diag_.error(where, "defaults section '" + name + "' not found (it must come before its use)" +
                         didYouMean(name, names));
  return nullptr;
}

bool HaproxyParser::openSection(const std::vector<std::string>& words, const Location& where) {
  const std::string& keyword = words[0];
  if (std::find(std::begin(kIgnoredSections), std::end(kIgnoredSections), keyword) !=
      std::end(kIgnoredSections)) {
    closeSection();
    section_ = Section::kIgnored;
    diag_.warning(where, "section '" + keyword + "' is ignored: lb has no use for it in TCP mode");
    return true;
  }
  if (keyword == "resolvers") {
    closeSection();
    section_ = Section::kResolvers;
    if (words.size() != 2) {
      diag_.error(where, "'resolvers' needs a name, e.g. 'resolvers dns'");
    } else {
      diag_.warning(where, "resolvers '" + words[1] + "': lb resolves server names once, " +
                               "with the system resolver, when the config is applied; it does " +
                               "not use these nameservers and does not re-resolve names " +
                               "periodically (reload to pick up DNS changes)");
    }
    return true;
  }
  if (keyword == "global") {
    closeSection();
    section_ = Section::kGlobal;
    section_cap_ = detail::kCapGlobal;
    if (words.size() > 1)
      diag_.warning(where, "'global' takes no name; '" + words[1] + "' ignored");
    return true;
  }
  if (keyword != "defaults" && keyword != "frontend" && keyword != "backend" &&
      keyword != "listen") {
    return false;
  }
  closeSection();
  section_ = Section::kProxy;
  auto draft = std::make_unique<ProxyDraft>();
  draft->kind = keyword;
  draft->where = where;

  // NAME [from DEFAULTS]; defaults may be anonymous.
  size_t i = 1;
  if (i < words.size() && words[i] != "from") draft->name = words[i++];
  // A proxy starts from the last defaults section; a defaults section starts afresh (HAProxy
  // resets the defaults at each `defaults` line) unless it names one with `from`.
  const ProxyDraft* base = keyword == "defaults" ? nullptr : last_defaults_.get();
  if (i < words.size() && words[i] == "from") {
    if (i + 1 >= words.size()) {
      diag_.error(where, "'from' needs the name of a defaults section");
    } else {
      base = findDefaults(words[i + 1], where);
    }
    i += 2;
  }
  if (i < words.size()) {
    diag_.error(where, "unexpected '" + words[i] + "' after the section name; expected '" +
                           keyword + " NAME [from DEFAULTS]'");
  }
  if (keyword != "defaults" && draft->name.empty()) {
    diag_.error(where, "'" + keyword + "' needs a name, e.g. '" + keyword + " web'");
    draft->name = "<unnamed>";
  } else if (keyword == "defaults" && !draft->name.empty() && !isValidName(draft->name)) {
    // Only for defaults: the validator checks the names of frontends and backends, with the
    // same message, and one mistake should be reported once.
    diag_.error(where, "invalid " + keyword + " name '" + draft->name +
                           "': use letters, digits, '-', '_', '.' and ':' only");
  }

  if (base != nullptr) {
    draft->frontend = base->frontend;
    draft->backend = base->backend;
    draft->default_server = base->default_server;
    draft->marks = base->marks;
    draft->httplog_at = base->httplog_at;
    draft->check_rules_inherited = true;
  }
  draft->frontend.set_name(draft->name);
  draft->backend.set_name(draft->name);
  if (keyword == "defaults") {
    section_cap_ = detail::kCapDefaults;
    draft->has_frontend = draft->has_backend = true;
  } else if (keyword == "frontend") {
    section_cap_ = detail::kCapFrontend;
    draft->has_frontend = true;
  } else if (keyword == "backend") {
    section_cap_ = detail::kCapBackend;
    draft->has_backend = true;
  } else {
    section_cap_ = detail::kCapFrontend | detail::kCapBackend;
    draft->has_frontend = draft->has_backend = true;
  }
  current_ = std::move(draft);
  return true;
}

void HaproxyParser::closeSection() {
  if (!current_) return;
  std::unique_ptr<ProxyDraft> draft = std::move(current_);
  if (draft->kind == "defaults") {
    if (!draft->name.empty()) {
      named_defaults_[draft->name] = std::make_unique<ProxyDraft>(*draft);
    }
    last_defaults_ = std::move(draft);
    return;
  }
  auto record = [&](std::string_view half, const std::string& prefix) {
    sources_.set(prefix, draft->where);
    std::string tag = std::string(half) + ":";
    for (const auto& [key, where] : draft->marks) {
      if (key.rfind(tag, 0) == 0) sources_.set(prefix + "." + key.substr(tag.size()), where);
    }
  };
  // A section that only serves statistics (no servers, no backend to send to): the page is
  // all there is to it.
  const auto& page = draft->frontend.stats_page();
  if (draft->has_frontend && (page.enabled() || !page.prometheus_path().empty()) &&
      draft->backend.servers_size() == 0 && draft->frontend.default_backend().empty()) {
    if (page.enabled() && page.uri().empty()) {
      draft->frontend.mutable_stats_page()->set_uri("/haproxy?stats");
    }
    draft->has_backend = false;
  }
  if (draft->kind == "listen" && draft->has_backend && draft->frontend.default_backend().empty()) {
    draft->frontend.set_default_backend(draft->name);
    draft->marks["frontend:default_backend"] = draft->where;
  }
  if (draft->has_frontend) {
    if (draft->httplog_at && draft->frontend.mode() != lb::v1::MODE_HTTP) {
      diag_.warning(*draft->httplog_at, "'option httplog' needs HTTP mode; " + draft->describe() +
                                            " falls back to 'option tcplog', as HAProxy does");
    }
    if (draft->bind_failed && draft->frontend.binds_size() == 0) {
      unread_binds_.insert(out_.frontends_size());
    }
    record("frontend", "frontends[" + std::to_string(out_.frontends_size()) + "]");
    *out_.add_frontends() = std::move(draft->frontend);
  }
  if (draft->has_backend) {
    record("backend", "backends[" + std::to_string(out_.backends_size()) + "]");
    *out_.add_backends() = std::move(draft->backend);
  }
}

void HaproxyParser::dispatch(const std::vector<std::string>& words, const Location& where) {
  KeywordContext ctx{
      words,        where,          diag_,
      section_cap_, current_.get(), section_ == Section::kGlobal ? out_.mutable_global() : nullptr};
  ctx.env = &address_env_;
  const std::string& keyword = words[0];

  // setenv/presetenv/unsetenv/resetenv change the variables later lines expand, as in HAProxy
  // (lb keeps them to its parser: nothing else of lb reads the environment).
  if (section_cap_ == detail::kCapGlobal && (keyword == "setenv" || keyword == "presetenv" ||
                                             keyword == "unsetenv" || keyword == "resetenv")) {
    if ((keyword == "setenv" || keyword == "presetenv") && words.size() != 3) {
      ctx.error("'" + keyword + "' expects a name and a value, e.g. '" + keyword + " PORT 8080'");
    } else if (keyword == "unsetenv" && words.size() < 2) {
      ctx.error("'unsetenv' expects at least one name");
    } else if (keyword == "setenv" || (keyword == "presetenv" && !lookupEnv(words[1]))) {
      env_set_[words[1]] = words[2];
    } else if (keyword == "unsetenv") {
      for (size_t i = 1; i < words.size(); ++i) env_set_[words[i]] = std::nullopt;
    } else if (keyword == "resetenv") {
      std::set<std::string, std::less<>> kept(words.begin() + 1, words.end());
      std::erase_if(env_set_, [&](const auto& entry) { return kept.count(entry.first) == 0; });
      env_kept_ = std::move(kept);
    }
    return;
  }

  // HAProxy 2.6 refuses HTTP rules in a defaults section without a name (nothing could refer
  // to them there).
  if (section_cap_ == detail::kCapDefaults && current_->name.empty() &&
      (keyword == "http-request" || keyword == "http-response" ||
       keyword == "http-after-response")) {
    ctx.error("'" + keyword + "' not allowed in anonymous 'defaults' section (HAProxy 2.6 " +
              "refuses it too; name the defaults section)");
    return;
  }

  // `option X` / `no option X`
  if (keyword == "option" || (keyword == "no" && words.size() > 1 && words[1] == "option")) {
    bool negate = keyword == "no";
    size_t at = negate ? 2 : 1;
    if (section_cap_ == detail::kCapGlobal) {
      ctx.error("'option' is not allowed in the 'global' section");
      return;
    }
    if (words.size() <= at) {
      ctx.error("'option' needs a name, e.g. 'option redispatch'");
      return;
    }
    const std::string& name = words[at];
    std::vector<std::string> rest(words.begin() + static_cast<long>(at), words.end());
    KeywordContext option_ctx{rest, where, diag_, section_cap_, current_.get(), nullptr, &env_};
    auto run = [&](auto specs) {
      for (const auto& spec : specs) {
        if (spec.name != name) continue;
        if (!(spec.caps & section_cap_)) {
          ctx.warning("'option " + name + "' ignored because " + current_->describe() + " has no " +
                      ((spec.caps & detail::kCapFrontend) ? "frontend" : "backend") +
                      " capability");
        } else {
          spec.handle(option_ctx, negate);
        }
        return true;
      }
      return false;
    };
    if (run(detail::proxyOptions()) || run(detail::checkOptions())) return;
    for (const auto& spec : detail::ignoredOptions()) {
      if (spec.name == name) {
        ctx.warning("'option " + name + "' is ignored: " + std::string(spec.reason));
        return;
      }
    }
    ctx.error("unknown option '" + name + "' in " + sectionWord(section_cap_) + " section" +
              didYouMean(name, optionNames(section_cap_)));
    return;
  }

  // A keyword may be listed for several sections (global and proxy `maxconn`): run the entry
  // for this section, or explain why the keyword does not belong here.
  const detail::KeywordSpec* misplaced = nullptr;
  for (auto specs : {detail::proxyKeywords(), detail::ruleKeywords(), detail::checkKeywords(),
                     detail::globalKeywords()}) {
    for (const auto& spec : specs) {
      if (spec.name != keyword) continue;
      if (spec.caps & section_cap_) {
        spec.handle(ctx);
        return;
      }
      if (misplaced == nullptr) misplaced = &spec;
    }
  }
  for (const auto& spec : detail::ignoredKeywords()) {
    if (spec.name == keyword && (spec.caps & section_cap_)) {
      ctx.warning("'" + keyword + "' is ignored: " + std::string(spec.reason));
      return;
    }
  }
  if (misplaced != nullptr) {
    if (section_cap_ == detail::kCapGlobal || !(misplaced->caps & detail::kCapProxy)) {
      ctx.error("'" + keyword + "' is not allowed in the '" + sectionWord(section_cap_) +
                "' section");
    } else if (section_cap_ == detail::kCapDefaults) {
      ctx.error("'" + keyword + "' is not allowed in a 'defaults' section");
    } else {
      ctx.warning("'" + keyword + "' ignored because " + current_->describe() + " has no " +
                  ((misplaced->caps & detail::kCapFrontend) ? "frontend" : "backend") +
                  " capability");
    }
    return;
  }
  // tcp-request/tcp-response are never an http-* keyword mistyped (nor the other way round):
  // suggesting one for the other would send a TCP config down an HTTP road.
  auto candidates = keywordNames(section_cap_);
  auto family = [](const std::string& word) { return word.substr(0, word.find('-') + 1); };
  if (family(keyword) == "tcp-" || family(keyword) == "http-") {
    std::erase_if(candidates, [&](const std::string& name) {
      std::string other = family(name);
      return (other == "tcp-" || other == "http-") && other != family(keyword);
    });
  }
  ctx.error("unknown keyword '" + keyword + "' in '" + sectionWord(section_cap_) + "' section" +
            didYouMean(keyword, candidates));
}

}  // namespace lb::config
