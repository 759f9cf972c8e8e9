#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "agent/config/diagnostics.h"
#include "agent/config/tokenizer.h"
#include "lb/v1/config.pb.h"

namespace lb::config {

namespace detail {
struct ProxyDraft;
}

// Reads HAProxy configuration syntax into an lb.v1.Config: sections global, defaults (named or
// not, with `from`), frontend, backend and listen; defaults and default-server inheritance are
// resolved here, so the Config it builds holds each proxy's own settings. Every problem found is
// added to the Diagnostics with its file:line, and parsing goes on to find the others.
//
// Several files may be parsed in turn into one Config, as `haproxy -f a -f b` does.
class HaproxyParser {
 public:
  HaproxyParser(lb::v1::Config& out, SourceMap& sources, Diagnostics& diag,
                EnvLookup env = processEnv());
  ~HaproxyParser();

  void parse(std::string_view text, const std::string& file);
  // Closes the last open section. Call after the last file (parse() also closes the previous
  // file's last section, since a section ends with its file).
  void finish();
  // Indexes (in Config.frontends) of the frontends without a bind because their bind lines
  // failed to parse: their errors say it already.
  const std::set<int>& unreadBinds() const { return unread_binds_; }

 private:
  void parseLine(std::vector<std::string> words, const Location& where);
  bool openSection(const std::vector<std::string>& words, const Location& where);
  void closeSection();
  void dispatch(const std::vector<std::string>& words, const Location& where);
  const detail::ProxyDraft* findDefaults(const std::string& name, const Location& where);

  lb::v1::Config& out_;
  SourceMap& sources_;
  Diagnostics& diag_;
  EnvLookup env_;
  // The environment as `setenv`, `presetenv`, `unsetenv` and `resetenv` left it.
  std::optional<std::string> lookupEnv(std::string_view name) const;
  std::map<std::string, std::optional<std::string>, std::less<>> env_set_;
  std::optional<std::set<std::string, std::less<>>> env_kept_;
  EnvLookup address_env_;  // lookupEnv, for addresses
  enum class Section { kNone, kGlobal, kProxy, kIgnored, kResolvers };
  Section section_ = Section::kNone;
  unsigned section_cap_ = 0;
  std::string section_name_;
  std::unique_ptr<detail::ProxyDraft> current_;
  // The last defaults section (what an unnamed `from` means), and named ones.
  std::unique_ptr<detail::ProxyDraft> last_defaults_;
  std::map<std::string, std::unique_ptr<detail::ProxyDraft>> named_defaults_;
  std::set<int> unread_binds_;
};

}  // namespace lb::config
