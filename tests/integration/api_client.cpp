#include "tests/integration/api_client.h"

namespace lb::testing {

ApiClient::ApiClient(const std::string& address, const std::string& token,
                     std::shared_ptr<grpc::ChannelCredentials> credentials,
                     const grpc::ChannelArguments& arguments)
    : token_(token) {
  if (!credentials) credentials = grpc::InsecureChannelCredentials();
  stub_ = lb::v1::Agent::NewStub(grpc::CreateCustomChannel(address, credentials, arguments));
}

void ApiClient::prepare(grpc::ClientContext* context, std::chrono::milliseconds deadline) const {
  context->set_deadline(std::chrono::system_clock::now() + deadline);
  if (!token_.empty()) context->AddMetadata("authorization", "Bearer " + token_);
}

grpc::Status ApiClient::apply(const lb::v1::ApplyConfigRequest& request,
                              lb::v1::ApplyConfigResponse* response) {
  grpc::ClientContext context;
  prepare(&context);
  return stub_->ApplyConfig(&context, request, response);
}

grpc::Status ApiClient::applyText(const std::string& text, lb::v1::ApplyConfigResponse* response,
                                  bool dry_run, uint64_t expected_version,
                                  const std::string& name) {
  lb::v1::ApplyConfigRequest request;
  auto* file = request.mutable_sources()->add_files();
  file->set_name(name);
  file->set_content(text);
  request.set_dry_run(dry_run);
  request.set_expected_version(expected_version);
  return apply(request, response);
}

grpc::Status ApiClient::getConfig(lb::v1::GetConfigResponse* response) {
  grpc::ClientContext context;
  prepare(&context);
  return stub_->GetConfig(&context, lb::v1::GetConfigRequest(), response);
}

grpc::Status ApiClient::getStatus(lb::v1::GetStatusResponse* response, const std::string& backend) {
  grpc::ClientContext context;
  prepare(&context);
  lb::v1::GetStatusRequest request;
  request.set_backend(backend);
  return stub_->GetStatus(&context, request, response);
}

grpc::Status ApiClient::setServer(const std::string& backend, const std::string& server,
                                  lb::v1::ServerStatus::AdminState state,
                                  lb::v1::SetServerStateResponse* response,
                                  std::optional<uint32_t> weight) {
  grpc::ClientContext context;
  prepare(&context);
  lb::v1::SetServerStateRequest request;
  request.set_backend(backend);
  request.set_server(server);
  request.set_admin_state(state);
  if (weight) request.set_weight(*weight);
  return stub_->SetServerState(&context, request, response);
}

grpc::Status ApiClient::setDrain(bool drain, lb::v1::SetAgentDrainResponse* response) {
  grpc::ClientContext context;
  prepare(&context);
  lb::v1::SetAgentDrainRequest request;
  request.set_drain(drain);
  return stub_->SetAgentDrain(&context, request, response);
}

std::vector<lb::v1::Event> ApiClient::heldEvents(lb::v1::Event::Type type) {
  lb::v1::WatchEventsRequest request;
  request.set_since(0);
  request.set_replay_only(true);
  request.add_types(type);
  grpc::ClientContext context;
  auto reader = watch(request, &context);
  lb::v1::WatchEventsResponse message;
  std::vector<lb::v1::Event> events;
  while (reader->Read(&message)) {
    if (message.has_event()) events.push_back(message.event());
  }
  return events;
}

std::unique_ptr<grpc::ClientReader<lb::v1::WatchEventsResponse>> ApiClient::watch(
    const lb::v1::WatchEventsRequest& request, grpc::ClientContext* context) {
  prepare(context, std::chrono::seconds(60));
  return stub_->WatchEvents(context, request);
}

lb::v1::ServerStatus serverOf(const lb::v1::GetStatusResponse& status, const std::string& backend,
                              const std::string& server) {
  for (const auto& be : status.backends()) {
    if (be.name() != backend) continue;
    for (const auto& s : be.servers()) {
      if (s.name() == server) return s;
    }
  }
  return {};
}

}  // namespace lb::testing
