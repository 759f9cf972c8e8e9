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
constexpr std::string_view kIgnoredSections[] = {"userlist", "peers",       "resolvers", "mailers",
                                                 "program",  "http-errors", "ring",      "cache"};

std::vector<std::string> keywordNames(unsigned cap) {
  std::vector<std::string> names{"global", "defaults", "frontend", "backend", "listen"};
  auto add = [&](auto specs) {
    for (const auto& spec : specs) {
      if (spec.caps & cap) names.emplace_back(spec.name);
    }
  };
  add(detail::proxyKeywords());
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
    : out_(out), sources_(sources), diag_(diag), env_(std::move(env)) {}

HaproxyParser::~HaproxyParser() = default;

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
    std::string error;
    auto words = tokenize(line, env_, &error);
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
  if (openSection(words, where)) return;
  switch (section_) {
    case Section::kIgnored:
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
  const std::string& keyword = words[0];

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
    KeywordContext option_ctx{rest, where, diag_, section_cap_, current_.get(), nullptr};
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
  for (auto specs : {detail::proxyKeywords(), detail::checkKeywords(), detail::globalKeywords()}) {
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
  ctx.error("unknown keyword '" + keyword + "' in '" + sectionWord(section_cap_) + "' section" +
            didYouMean(keyword, keywordNames(section_cap_)));
}

}  // namespace lb::config
