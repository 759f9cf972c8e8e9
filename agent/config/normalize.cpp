#include "agent/config/normalize.h"

#include "agent/config/duration.h"

namespace lb::config {

namespace {
// An empty message means the same as an absent one; dropping it gives each config one form, so
// that equal configs compare equal (and render/parse round-trips).
template <typename Message>
bool isEmpty(const Message& message) {
  return message.ByteSizeLong() == 0;
}
}  // namespace

void normalize(lb::v1::Config& config) {
  using lb::v1::Balance;
  using lb::v1::HealthCheck;
  using lb::v1::Server;
  if (config.has_global() && isEmpty(config.global())) config.clear_global();
  for (auto& frontend : *config.mutable_frontends()) {
    if (frontend.mode() == lb::v1::MODE_UNSPECIFIED) frontend.set_mode(lb::v1::MODE_TCP);
    if (frontend.has_timeouts() && isEmpty(frontend.timeouts())) frontend.clear_timeouts();
    if (frontend.has_log() && isEmpty(frontend.log())) frontend.clear_log();
  }
  for (auto& backend : *config.mutable_backends()) {
    if (backend.mode() == lb::v1::MODE_UNSPECIFIED) backend.set_mode(lb::v1::MODE_TCP);
    auto* balance = backend.mutable_balance();
    if (balance->algorithm() == Balance::ALGORITHM_UNSPECIFIED) {
      balance->set_algorithm(Balance::ROUNDROBIN);
    }
    if (balance->algorithm() == Balance::RANDOM && !balance->has_random_draws()) {
      balance->set_random_draws(kDefaultRandomDraws);
    }
    if (!backend.has_retries()) backend.set_retries(kDefaultRetries);
    if (backend.has_timeouts() && isEmpty(backend.timeouts())) backend.clear_timeouts();
    auto* check = backend.mutable_health_check();
    if (check->type() == HealthCheck::TYPE_UNSPECIFIED) check->set_type(HealthCheck::TCP);
    if (check->type() == HealthCheck::HTTP) {
      auto* http = check->mutable_http();
      if (http->method().empty()) http->set_method(kDefaultCheckMethod);
      if (http->uri().empty()) http->set_uri(kDefaultCheckUri);
      if (http->version().empty()) http->set_version(kDefaultCheckVersion);
    }
    if (check->has_http() && isEmpty(check->http())) check->clear_http();
    for (auto& server : *backend.mutable_servers()) {
      if (!server.has_weight()) server.set_weight(kDefaultWeight);
      if (!server.has_inter()) *server.mutable_inter() = toProto(kDefaultInter);
      if (!server.has_rise()) server.set_rise(kDefaultRise);
      if (!server.has_fall()) server.set_fall(kDefaultFall);
      if (!server.has_error_limit()) server.set_error_limit(kDefaultErrorLimit);
      if (server.on_error() == Server::ON_ERROR_UNSPECIFIED)
        server.set_on_error(Server::FAIL_CHECK);
    }
  }
}

}  // namespace lb::config
