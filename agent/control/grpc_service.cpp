#include "agent/control/grpc_service.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "agent/common/proto_time.h"
#include "agent/config/suggest.h"
#include "agent/control/event_watcher.h"

namespace lb::control {

namespace asio = boost::asio;

namespace {

lb::v1::Diagnostic toProto(const config::Diagnostic& d) {
  lb::v1::Diagnostic out;
  out.set_severity(d.severity == config::Severity::kError ? lb::v1::Diagnostic::ERROR
                                                          : lb::v1::Diagnostic::WARNING);
  if (d.where) {
    out.set_file(d.where->file);
    out.set_line(static_cast<uint32_t>(std::max(0, d.where->line)));
  }
  out.set_path(d.path);
  out.set_message(d.message);
  out.set_text(d.toString());
  return out;
}

// Answers at once when the caller may not make the call; false then.
bool authorized(const Authenticator& auth, grpc::CallbackServerContext* context, Role needed,
                grpc::ServerUnaryReactor* reactor, Caller* caller) {
  grpc::Status status = auth.authorize(*context, needed, caller);
  if (status.ok()) return true;
  reactor->Finish(status);
  return false;
}

// Parses and validates what the request carries (on the loader thread).
config::LoadResult loadRequest(const lb::v1::ApplyConfigRequest& request, common::Resolver& names) {
  if (request.has_sources()) {
    std::vector<config::Source> sources;
    for (const auto& file : request.sources().files()) {
      sources.push_back({file.name().empty() ? "<input>" : file.name(), file.content(),
                         *config::formatNamed(file.format())});
    }
    return config::load(sources, {&names});
  }
  config::LoadResult loaded;
  loaded.config = request.config();
  loaded.diagnostics = config::check(loaded.config, {&names});
  return loaded;
}

}  // namespace

grpc::Status applyStatus(const ApplyResult& result) {
  lb::v1::ApplyErrors details;
  std::string message;
  for (const auto& d : result.diagnostics.all()) {
    if (d.severity == config::Severity::kError) {
      *details.add_errors() = toProto(d);
      message += (message.empty() ? "" : "\n") + d.toString();
    } else {
      *details.add_warnings() = toProto(d);
    }
  }
  details.set_version(result.version);
  grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT;
  if (result.status != ApplyStatus::kInvalid) {
    code = grpc::StatusCode::FAILED_PRECONDITION;
    message = result.message;
  }
  lb::v1::ErrorStatus status;
  status.set_code(code);
  status.set_message(message);
  status.add_details()->PackFrom(details);
  return grpc::Status(code, message, status.SerializeAsString());
}

AgentService::AgentService(ControlPlane& control, boost::asio::io_context& control_io,
                           const Authenticator& auth, AgentIdentity identity,
                           std::function<void()> on_applied, size_t watch_queue)
    : control_(control),
      io_(control_io),
      auth_(auth),
      identity_(std::move(identity)),
      on_applied_(std::move(on_applied)),
      watch_queue_(watch_queue) {}

grpc::ServerUnaryReactor* AgentService::ApplyConfig(grpc::CallbackServerContext* context,
                                                    const lb::v1::ApplyConfigRequest* request,
                                                    lb::v1::ApplyConfigResponse* response) {
  auto* reactor = context->DefaultReactor();
  Caller caller;
  if (!authorized(auth_, context, Role::kAdmin, reactor, &caller)) return reactor;
  if (!request->has_config() && !request->has_sources()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "no configuration: set `config` or `sources`"));
    return reactor;
  }
  for (const auto& file : request->sources().files()) {
    if (!config::formatNamed(file.format())) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "sources: unknown format '" + file.format() + "' for '" +
                                       file.name() + "'; use haproxy, yaml, json or \"\""));
      return reactor;
    }
  }
  ApplyOptions options;
  options.dry_run = request->dry_run();
  options.expected_version = request->expected_version();
  options.allow_no_listener = request->allow_no_listener();
  options.origin = caller.identity;
  control_.load([request](common::Resolver& names) { return loadRequest(*request, names); },
                [this, reactor, response, options](config::LoadResult loaded) {
                  control_.apply(std::move(loaded), options,
                                 [this, reactor, response, options](const ApplyResult& result) {
                                   spdlog::info("ApplyConfig from {}: {}, version {} ({})",
                                                options.origin, toString(result.status),
                                                result.version, result.summary());
                                   if (!result.ok()) {
                                     reactor->Finish(applyStatus(result));
                                     return;
                                   }
                                   response->set_version(result.version);
                                   response->set_previous_version(result.previous_version);
                                   response->set_applied(result.status == ApplyStatus::kApplied);
                                   *response->mutable_diff() = result.diff;
                                   for (const auto& d : result.diagnostics.all()) {
                                     *response->add_warnings() = toProto(d);
                                   }
                                   if (result.status == ApplyStatus::kApplied && on_applied_)
                                     on_applied_();
                                   reactor->Finish(grpc::Status::OK);
                                 });
                });
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::GetConfig(grpc::CallbackServerContext* context,
                                                  const lb::v1::GetConfigRequest*,
                                                  lb::v1::GetConfigResponse* response) {
  auto* reactor = context->DefaultReactor();
  Caller caller;
  if (!authorized(auth_, context, Role::kRead, reactor, &caller)) return reactor;
  asio::post(io_, [this, reactor, response] {
    const Applied& applied = control_.applied();
    *response->mutable_config() = applied.config;
    response->set_version(applied.version);
    for (const auto& text : applied.texts) {
      auto* file = response->mutable_sources()->add_files();
      file->set_name(text.name);
      file->set_format(config::formatName(text.format));
      file->set_content(text.text);
    }
    if (applied.at != common::WallTime{}) {
      *response->mutable_applied_at() = common::toProto(applied.at);
    }
    response->set_applied_by(applied.by);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::GetStatus(grpc::CallbackServerContext* context,
                                                  const lb::v1::GetStatusRequest* request,
                                                  lb::v1::GetStatusResponse* response) {
  auto* reactor = context->DefaultReactor();
  Caller caller;
  if (!authorized(auth_, context, Role::kRead, reactor, &caller)) return reactor;
  asio::post(io_, [this, reactor, request, response] {
    const std::string& backend = request->backend();
    if (!backend.empty()) {
      const auto& rt = control_.runtime();
      if (rt == nullptr || rt->findBackend(backend) == nullptr) {
        std::vector<std::string> names;
        if (rt) {
          for (const auto& be : rt->backends) names.push_back(be->name);
        }
        reactor->Finish(
            grpc::Status(grpc::StatusCode::NOT_FOUND,
                         "no backend '" + backend + "'" + config::didYouMean(backend, names)));
        return;
      }
    }
    *response = buildStatus(control_, identity_, backend);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerWriteReactor<lb::v1::WatchEventsResponse>* AgentService::WatchEvents(
    grpc::CallbackServerContext* context, const lb::v1::WatchEventsRequest* request) {
  Caller caller;
  grpc::Status status = auth_.authorize(*context, Role::kRead, &caller);
  if (!status.ok()) {
    // A reactor that only says no.
    struct Refusal : grpc::ServerWriteReactor<lb::v1::WatchEventsResponse> {
      explicit Refusal(const grpc::Status& status) { Finish(status); }
      void OnDone() override { delete this; }
    };
    return new Refusal(status);
  }
  return new EventWatcher(control_.events(), *request, watch_queue_);
}

grpc::ServerUnaryReactor* AgentService::SetServerState(grpc::CallbackServerContext* context,
                                                       const lb::v1::SetServerStateRequest* request,
                                                       lb::v1::SetServerStateResponse* response) {
  auto* reactor = context->DefaultReactor();
  Caller caller;
  if (!authorized(auth_, context, Role::kAdmin, reactor, &caller)) return reactor;
  ServerChange change;
  change.admin = fromProto(request->admin_state());
  if (request->has_weight()) change.weight = request->weight();
  change.origin = caller.identity;
  if (request->backend().empty() || request->server().empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "name the server: set `backend` and `server`"));
    return reactor;
  }
  if (!change.admin && !change.weight) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "nothing to change: set `admin_state` (READY, DRAIN, MAINT) "
                                 "and/or `weight`"));
    return reactor;
  }
  asio::post(io_, [this, reactor, request, response, change] {
    auto result = control_.changeServer(request->backend(), request->server(), change);
    switch (result.code) {
      case ServerChangeResult::Code::kNotFound:
        reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, result.message));
        return;
      case ServerChangeResult::Code::kInvalid:
        reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, result.message));
        return;
      case ServerChangeResult::Code::kOk:
        break;
    }
    spdlog::info("SetServerState from {}: {}/{}{}{}", change.origin, request->backend(),
                 request->server(),
                 change.admin ? " " + std::string(runtime::toString(*change.admin)) : "",
                 change.weight ? " weight " + std::to_string(*change.weight) : "");
    *response->mutable_server() = serverStatus(control_, *result.backend, *result.server);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::SetAgentDrain(grpc::CallbackServerContext* context,
                                                      const lb::v1::SetAgentDrainRequest* request,
                                                      lb::v1::SetAgentDrainResponse* response) {
  auto* reactor = context->DefaultReactor();
  Caller caller;
  if (!authorized(auth_, context, Role::kAdmin, reactor, &caller)) return reactor;
  asio::post(io_, [this, reactor, request, response, origin = caller.identity] {
    bool changed = control_.setDraining(request->drain(), origin);
    if (changed) {
      spdlog::info("SetAgentDrain from {}: {}", origin,
                   request->drain() ? "draining (tier health answers 503)" : "ready");
    }
    response->set_draining(control_.draining());
    response->set_changed(changed);
    response->set_current_connections(control_.activeSessions());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace lb::control
