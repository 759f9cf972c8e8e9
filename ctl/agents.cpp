#include "ctl/agents.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "agent/config/duration.h"
#include "ctl/contexts.h"

namespace lb::ctl {

namespace {

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
  }
  return out;
}

std::vector<AgentTarget> targetsOf(const std::vector<std::string>& addresses,
                                   const Credentials& credentials) {
  std::vector<AgentTarget> out;
  for (const auto& address : addresses) out.push_back({address, address, credentials});
  return out;
}

}  // namespace

std::optional<std::vector<AgentTarget>> findAgents(const GlobalOptions& options,
                                                   std::string* error) {
  if (!options.agents.empty()) return targetsOf(options.agents, options.credentials);
  if (const char* env = std::getenv("LBCTL_AGENTS"); env != nullptr && *env != '\0') {
    auto list = splitList(env);
    if (!list.empty()) return targetsOf(list, options.credentials);
  }
  const std::string path = contextsPath();
  auto file = loadContexts(path, error);
  if (!file) return std::nullopt;
  const std::string wanted = options.context.empty() ? file->current : options.context;
  if (wanted.empty()) {
    *error = "no agents: give --agent ADDR, set LBCTL_AGENTS, or choose a context of " + path +
             " with 'lbctl config use-context NAME'";
    return std::nullopt;
  }
  const Context* context = file->find(wanted);
  if (context == nullptr) {
    *error = "no context '" + wanted + "' in " + path + file->didYouMean(wanted);
    return std::nullopt;
  }
  if (context->agents.empty()) {
    *error = "context '" + wanted + "' of " + path + " lists no agents";
    return std::nullopt;
  }
  return context->agents;
}

AgentConnection::AgentConnection(AgentTarget target, Millis timeout)
    : target_(std::move(target)), timeout_(timeout) {
  const Credentials& c = target_.credentials;
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!c.ca.empty() || !c.cert.empty()) {
    grpc::SslCredentialsOptions ssl;
    auto read = [&](const std::string& path, std::string* out) {
      if (path.empty()) return;
      auto text = readFile(path);
      if (!text) {
        setup_error_ = "cannot read " + path;
        return;
      }
      *out = *text;
    };
    read(c.ca, &ssl.pem_root_certs);
    read(c.cert, &ssl.pem_cert_chain);
    read(c.key, &ssl.pem_private_key);
    credentials = grpc::SslCredentials(ssl);
  }
  if (!c.token_file.empty()) {
    auto text = readFile(c.token_file);
    if (!text) {
      setup_error_ = "cannot read the token file " + c.token_file;
    } else {
      token_ = text->substr(0, text->find_first_of("\r\n"));
      if (token_.empty()) setup_error_ = "the token file " + c.token_file + " is empty";
    }
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);  // GetConfig of a large configuration
  arguments.SetMaxSendMessageSize(16 << 20);     // the agent's bound on a request
  stub_ =
      lb::v1::Agent::NewStub(grpc::CreateCustomChannel(target_.address, credentials, arguments));
}

void AgentConnection::prepare(grpc::ClientContext& context, bool stream) const {
  if (!stream) context.set_deadline(std::chrono::system_clock::now() + timeout_);
  if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
}

grpc::Status AgentConnection::call(
    const std::function<grpc::Status(grpc::ClientContext*, lb::v1::Agent::Stub&)>& rpc) {
  if (!setup_error_.empty()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, setup_error_);
  }
  grpc::ClientContext context;
  prepare(context);
  return rpc(&context, *stub_);
}

std::vector<AgentConnection> connect(const std::vector<AgentTarget>& targets, Millis timeout) {
  std::vector<AgentConnection> out;
  out.reserve(targets.size());
  for (const auto& target : targets) out.emplace_back(target, timeout);
  return out;
}

const char* codeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "?";
  }
}

std::string describe(const grpc::Status& status, Millis timeout) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE: {
      // gRPC's "failed to connect to all addresses; last error: UNKNOWN: ipv4:...: Failed to
      // connect to remote host: Connection refused" comes down to its last part.
      std::string why = status.error_message();
      if (why.find("last error:") != std::string::npos) {
        auto at = why.rfind(": ");
        if (at != std::string::npos) why = why.substr(at + 2);
        if (!why.empty()) why[0] = static_cast<char>(std::tolower(why[0]));
      }
      return "unreachable: " + why;
    }
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "no answer within " + formatDuration(timeout) + " (--timeout)";
    default:
      return std::string(codeName(status.error_code())) + ": " + status.error_message();
  }
}

std::optional<Millis> parseDuration(const std::string& text, std::string* error) {
  auto parsed = config::parseTime(text, error);
  if (!parsed) return std::nullopt;
  if (parsed->unitless) {
    *error = "'" + text + "' has no unit; write e.g. " + text + "s or " + text + "ms";
    return std::nullopt;
  }
  return std::chrono::duration_cast<Millis>(parsed->value);
}

std::string formatDuration(Millis duration) {
  using namespace std::chrono;
  auto ms = duration.count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  auto s = duration_cast<seconds>(duration).count();
  if (s < 60) {
    auto tenths = (ms % 1000) / 100;
    return std::to_string(s) + (tenths != 0 ? "." + std::to_string(tenths) : "") + "s";
  }
  auto d = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
  if (d > 0) return std::to_string(d) + "d" + std::to_string(h) + "h";
  if (h > 0) return std::to_string(h) + "h" + std::to_string(m) + "m";
  return std::to_string(m) + "m" + std::to_string(sec) + "s";
}

}  // namespace lb::ctl
