#include "agent/runtime/runtime.h"

#include <netdb.h>

#include "agent/config/duration.h"

namespace lb::runtime {

namespace {

std::optional<Millis> millis(bool present, const google::protobuf::Duration& d) {
  if (!present) return std::nullopt;
  return std::chrono::duration_cast<Millis>(config::fromProto(d));
}

// Resolves a host name or IP literal to its first address (IPv4 first, as HAProxy prefers).
std::optional<boost::asio::ip::address> resolve(const std::string& host, std::string* error) {
  boost::system::error_code ec;
  auto literal = boost::asio::ip::make_address(host, ec);
  if (!ec) return literal;
  for (int family : {AF_INET, AF_INET6}) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* result = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &result) != 0 || result == nullptr) continue;
    boost::asio::ip::tcp::endpoint endpoint;
    std::memcpy(endpoint.data(), result->ai_addr, result->ai_addrlen);
    freeaddrinfo(result);
    return endpoint.address();
  }
  *error = "cannot resolve '" + host + "'";
  return std::nullopt;
}

}  // namespace

bool BackendRuntime::usable(size_t i) const {
  const ServerState& s = *servers[i].state;
  return s.op.load(std::memory_order_relaxed) == OpState::kUp &&
         s.admin.load(std::memory_order_relaxed) == AdminState::kReady &&
         s.weight.load(std::memory_order_relaxed) > 0;
}

uint32_t BackendRuntime::weight(size_t i) const {
  return servers[i].state->weight.load(std::memory_order_relaxed);
}

uint32_t BackendRuntime::active(size_t i) const {
  return servers[i].state->active.load(std::memory_order_relaxed);
}

bool BackendRuntime::full(size_t i) const {
  return servers[i].maxconn != 0 && active(i) >= servers[i].maxconn;
}

std::string BindRuntime::key() const {
  std::string out = endpoint.address().to_string() + "|" + std::to_string(config.port());
  out += config.v4v6() ? "|v4v6" : "";
  out += config.v6only() ? "|v6only" : "";
  out += "|" + config.interface() + "|" + std::to_string(config.backlog());
  return out;
}

const FrontendRuntime* Runtime::findFrontend(const std::string& name) const {
  for (const auto& fe : frontends) {
    if (fe.name == name) return &fe;
  }
  return nullptr;
}

BackendRuntime* Runtime::findBackend(const std::string& name) const {
  for (const auto& be : backends) {
    if (be->name == name) return be.get();
  }
  return nullptr;
}

std::shared_ptr<Runtime> buildRuntime(const lb::v1::Config& config, uint64_t version,
                                      StateStore& store, std::string* error) {
  auto rt = std::make_shared<Runtime>();
  rt->version = version;
  rt->config = config;
  const auto& global = config.global();
  if (global.has_bufsize()) rt->bufsize = global.bufsize();
  rt->splice = !global.nosplice();
  rt->sched_batch = global.sched_policy() != lb::v1::Global::NORMAL;
  if (global.has_maxconn()) rt->maxconn = global.maxconn();
  rt->hard_stop_after = millis(global.has_hard_stop_after(), global.hard_stop_after());

  for (const auto& be : config.backends()) {
    auto backend = std::make_unique<BackendRuntime>();
    backend->name = be.name();
    backend->state = store.backend(be.name());
    const auto& t = be.timeouts();
    backend->timeout_connect = millis(t.has_connect(), t.connect());
    backend->timeout_server = millis(t.has_server(), t.server());
    backend->timeout_server_fin = millis(t.has_server_fin(), t.server_fin());
    backend->timeout_tunnel = millis(t.has_tunnel(), t.tunnel());
    backend->timeout_queue = millis(t.has_queue(), t.queue());
    if (!backend->timeout_queue) backend->timeout_queue = backend->timeout_connect;
    backend->retries = be.retries();
    backend->redispatch = be.redispatch();
    backend->smart_connect = !be.has_tcp_smart_connect() || be.tcp_smart_connect();
    bool queue_bounded = be.servers_size() > 0;
    for (const auto& s : be.servers()) {
      ServerRuntime server;
      server.name = s.name();
      server.config = s;
      auto address = resolve(s.address(), error);
      if (!address) {
        *error = "server " + be.name() + "/" + s.name() + ": " + *error;
        return nullptr;
      }
      server.endpoint = {*address, static_cast<uint16_t>(s.port())};
      server.maxconn = s.has_maxconn() ? s.maxconn() : 0;
      server.state = store.server(be.name(), s.name(), s.address(), s.port());
      server.state->weight.store(s.weight(), std::memory_order_relaxed);
      if (s.disabled()) server.state->admin.store(AdminState::kMaint, std::memory_order_relaxed);
      if (s.has_maxqueue() && s.maxqueue() > 0) {
        backend->queue_limit += s.maxqueue();
      } else {
        queue_bounded = false;
      }
      backend->servers.push_back(std::move(server));
    }
    if (!queue_bounded) backend->queue_limit = 0;
    backend->balancer = balance::makeBalancer(be.balance(), be.allbackups(), *backend);
    rt->backends.push_back(std::move(backend));
  }

  for (const auto& fe : config.frontends()) {
    FrontendRuntime frontend;
    frontend.name = fe.name();
    frontend.state = store.frontend(fe.name());
    frontend.maxconn = fe.has_maxconn() ? fe.maxconn() : 0;
    frontend.timeout_client = millis(fe.timeouts().has_client(), fe.timeouts().client());
    frontend.timeout_client_fin =
        millis(fe.timeouts().has_client_fin(), fe.timeouts().client_fin());
    frontend.tcplog = fe.log().tcplog();
    frontend.dontlognull = fe.log().dontlognull();
    frontend.smart_accept = fe.tcp_smart_accept();
    if (!fe.disabled()) frontend.backend = rt->findBackend(fe.default_backend());
    if (fe.disabled()) {
      rt->frontends.push_back(std::move(frontend));
      continue;
    }
    for (const auto& b : fe.binds()) {
      BindRuntime bind;
      bind.config = b;
      auto address = resolve(b.address(), error);
      if (!address) {
        *error = "frontend " + fe.name() + " bind: " + *error;
        return nullptr;
      }
      bind.endpoint = {*address, static_cast<uint16_t>(b.port())};
      frontend.binds.push_back(std::move(bind));
    }
    rt->frontends.push_back(std::move(frontend));
  }
  return rt;
}

}  // namespace lb::runtime
