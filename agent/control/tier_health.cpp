#include "agent/control/tier_health.h"

#include <algorithm>

#include <string>
#include <vector>

#include "agent/config/suggest.h"

namespace lb::control {

namespace {

constexpr std::string_view kFrontendPrefix = "/healthz/frontend/";

}  // namespace

void TierHealth::addRoutes(http::HttpServer& server) {
  server.route("/healthz", [this](const http::Request&) { return agent(); });
  server.route(std::string(kFrontendPrefix), [this](const http::Request& request) {
    return frontend(request.path.substr(kFrontendPrefix.size()));
  });
}

http::Response TierHealth::agent() const {
  if (stopping_) return {503, "stopping\n"};
  if (control_.runtime() == nullptr) return {503, "no configuration in force yet\n"};
  std::string body = "ok: configuration version " + std::to_string(control_.version());
  if (control_.draining()) body += ", draining (frontends answer 503)";
  return {200, body + "\n"};
}

http::Response TierHealth::frontend(std::string_view name) const {
  const auto& runtime = control_.runtime();
  if (runtime == nullptr) return {503, "no configuration in force yet\n"};
  const runtime::FrontendRuntime* found = nullptr;
  std::vector<std::string> names;
  for (const auto& fe : runtime->frontends) {
    names.push_back(fe.name);
    if (fe.name == name) found = &fe;
  }
  if (found == nullptr) {
    return {404, "no frontend '" + std::string(name) + "'" +
                     config::didYouMean(std::string(name), names) + "\n"};
  }
  std::string prefix = "frontend " + found->name + ": ";
  if (stopping_) return {503, prefix + "agent stopping\n"};
  if (control_.draining()) return {503, prefix + "agent draining\n"};
  if (found->disabled) return {503, prefix + "disabled\n"};
  // The backends its connections can go to: the default one and those of use_backend rules
  // with a fixed name. Healthy while any of them has a usable server.
  std::vector<const runtime::BackendRuntime*> backends;
  if (found->backend != nullptr) backends.push_back(found->backend);
  for (const auto* target : found->use_backend_targets) {
    if (target != nullptr &&
        std::find(backends.begin(), backends.end(), target) == backends.end()) {
      backends.push_back(target);
    }
  }
  if (backends.empty()) return {503, prefix + "no backend to send connections to\n"};
  bool any = false;
  std::string counts;
  for (const auto* backend : backends) {
    uint32_t usable = backend->usableCount();
    any = any || usable > 0;
    counts += std::to_string(usable) + " of " + std::to_string(backend->servers.size()) +
              " servers usable in backend " + backend->name + "\n";
  }
  return {any ? 200u : 503u, prefix + counts};
}

}  // namespace lb::control
