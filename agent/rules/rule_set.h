#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/rules/acl.h"
#include "agent/rules/fetch.h"
#include "agent/rules/stick_table.h"
#include "lb/v1/config.pb.h"

namespace lb::rules {

// What a `tcp-request` rule does when its condition holds.
struct Action {
  enum class Kind : uint8_t {
    kAccept,       // stop evaluating this list of rules
    kReject,       // close the connection
    kSilentDrop,   // close it with a reset, sending nothing else
    kTrack,        // track-scN KEY [table T]
    kIncGpc,       // sc-inc-gpc0(N) / sc-inc-gpc1(N)
    kSetGpt0,      // sc-set-gpt0(N) VALUE
    kExpectProxy,  // expect-proxy layer4
    kNoop,         // set-var, unset-var, capture: accepted, no effect in lb (docs)
  };
  Kind kind = Kind::kNoop;
  int counter = 0;
  std::optional<Fetch> key;  // kTrack
  std::shared_ptr<StickTable> table;
  StickData gpc = StickData::kGpc0;
  int64_t value = 0;
};

struct Rule {
  Condition condition;
  Action action;
};

// A piece of a `use_backend` name: literal text or a `%[fetch]`.
struct NamePart {
  std::string text;
  std::optional<Fetch> fetch;
};

struct UseBackendRule {
  Condition condition;
  std::string name;              // static name, or the format as written
  std::vector<NamePart> format;  // non-empty: a dynamic name (`%[req.ssl_sni,lower]`)
};

struct UseServerRule {
  Condition condition;
  std::string server;
};

struct StickRule {
  lb::v1::StickRule::Kind kind = lb::v1::StickRule::ON;
  Fetch expr;
  std::shared_ptr<StickTable> table;
  Condition condition;
};

// The compiled layer-4 rules of one frontend or backend, part of the immutable snapshot.
class ProxyRules {
 public:
  AclSet acls;
  std::vector<Rule> connection;  // tcp-request connection
  std::vector<Rule> session;     // tcp-request session
  std::vector<Rule> content;     // tcp-request content
  std::optional<std::chrono::milliseconds> inspect_delay;
  std::vector<UseBackendRule> use_backend;
  std::vector<UseServerRule> use_server;
  std::vector<StickRule> stick;
  // Whether content rules or use_backend conditions read the client's bytes.
  bool reads_payload = false;

  bool empty() const {
    return connection.empty() && session.empty() && content.empty() && use_backend.empty() &&
           use_server.empty() && stick.empty();
  }
};

// What a frontend or a backend declares (fields of lb.v1.Frontend / lb.v1.Backend).
struct RulesSpec {
  const google::protobuf::RepeatedPtrField<lb::v1::Acl>* acls = nullptr;
  const google::protobuf::RepeatedPtrField<lb::v1::TcpRule>* tcp_request = nullptr;
  const google::protobuf::Duration* inspect_delay = nullptr;  // null: not set
  const google::protobuf::RepeatedPtrField<lb::v1::UseBackend>* use_backend = nullptr;
  const google::protobuf::RepeatedPtrField<lb::v1::UseServer>* use_server = nullptr;
  const google::protobuf::RepeatedPtrField<lb::v1::StickRule>* stick = nullptr;
};
RulesSpec rulesOf(const lb::v1::Frontend& frontend);
RulesSpec rulesOf(const lb::v1::Backend& backend);

// Compiles a proxy's rules. With a binder, counters and stick tables are bound (the snapshot
// build); without, only the syntax and the ACL names are checked (the validator). On error,
// `path` is the field path of the culprit relative to the proxy ("tcp_request[2]").
std::unique_ptr<ProxyRules> compileRules(const RulesSpec& spec, Binder* binder, std::string& path,
                                         std::string& error);

// Parses a `use_backend` name with `%[fetch]` parts; an empty result means a static name.
std::optional<std::vector<NamePart>> parseNameFormat(const std::string& text, std::string& error);
// Renders a dynamic name; nothing while a fetch may still change or found nothing.
std::optional<std::string> renderName(const std::vector<NamePart>& format, Facts& facts,
                                      bool& wait);

// What running a list of rules decided.
enum class Verdict : uint8_t {
  kContinue,    // every rule ran, or one said accept: go on
  kReject,      // close the connection (counted as denied)
  kSilentDrop,  // close it with a reset
  kWait,        // a condition needs more of the client's bytes: run again from `next`
};
// Runs `rules` from index `next` (updated, so that a waiting list resumes where it stopped).
// `expect_proxy` is set by an `expect-proxy layer4` rule.
Verdict runRules(const std::vector<Rule>& rules, size_t& next, Facts& facts, bool* expect_proxy);

}  // namespace lb::rules
