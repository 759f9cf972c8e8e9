#include "agent/runtime/build.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>

#include "agent/common/proto_time.h"
#include "agent/runtime/rules_build.h"

namespace lb::runtime {

namespace {

using common::millisIfSet;

std::string at(std::string_view prefix, int index) {
  return std::string(prefix) + "[" + std::to_string(index) + "]";
}

OnError onError(lb::v1::Server::OnError value) {
  switch (value) {
    case lb::v1::Server::FASTINTER:
      return OnError::kFastinter;
    case lb::v1::Server::SUDDEN_DEATH:
      return OnError::kSuddenDeath;
    case lb::v1::Server::MARK_DOWN:
      return OnError::kMarkDown;
    default:
      return OnError::kFailCheck;
  }
}

class Builder {
 public:
  Builder(const lb::v1::Config& config, const BuildContext& context)
      : config_(config), context_(context), rt_(std::make_shared<Runtime>()) {}

  BuildResult run() {
    rt_->version = context_.version;
    rt_->observer = context_.observer;
    const auto& global = config_.global();
    if (global.has_bufsize()) rt_->bufsize = global.bufsize();
    rt_->splice = !global.nosplice();
    rt_->sched_batch = global.sched_policy() != lb::v1::Global::NORMAL;
    if (global.has_maxconn()) rt_->maxconn = global.maxconn();
    rt_->maxconnrate = global.maxconnrate();
    if (global.has_nbthread()) rt_->nbthread = global.nbthread();
    rt_->spread_checks = global.spread_checks();
    rt_->hard_stop_after = millisIfSet(global.has_hard_stop_after(), global.hard_stop_after());
    for (int i = 0; i < config_.backends_size(); ++i) {
      if (!addBackend(config_.backends(i), at("backends", i))) return {nullptr, error_};
    }
    for (int i = 0; i < config_.frontends_size(); ++i) {
      // A section that only serves the statistics page has no data-plane part (the agent's
      // StatsPages serve it; config::isStatsOnly).
      const auto& fe = config_.frontends(i);
      const auto& page = fe.stats_page();
      if ((page.enabled() || !page.prometheus_path().empty()) && fe.default_backend().empty() &&
          fe.use_backend_size() == 0) {
        continue;
      }
      if (!addFrontend(fe, at("frontends", i))) return {nullptr, error_};
    }
    if (context_.store != nullptr) {
      BuildError rules_error;
      if (!buildRules(config_, *rt_, *context_.store, rules_error)) return {nullptr, rules_error};
    }
    if (!global.has_maxconn() && context_.fd_limit > 0) {
      size_t listeners = 0, checked = 0;
      for (const auto& fe : rt_->frontends) listeners += fe.binds.size();
      for (const auto& be : rt_->backends) {
        for (const auto& server : be->servers) checked += server.check ? 1 : 0;
      }
      auto derived = deriveMaxconn(context_.fd_limit, listeners * std::max(1u, context_.threads),
                                   checked, context_.threads);
      rt_->maxconn = derived.maxconn;
      rt_->maxconn_derived = true;
      rt_->fds_reserved = derived.reserved;
    }
    return {std::move(rt_), {}};
  }

 private:
  bool fail(std::string path, std::string message) {
    error_ = {std::move(path), std::move(message)};
    return false;
  }

  // `path` and `what` name the field in an error; they are built only when there is one (a
  // large backend resolves many addresses).
  std::optional<boost::asio::ip::address> resolve(const std::string& host,
                                                  const std::function<std::string()>& path,
                                                  const std::function<std::string()>& what) {
    std::string problem;
    std::optional<boost::asio::ip::address> address;
    if (context_.resolver != nullptr) {
      address = context_.resolver->resolve(host, &problem);
    } else {
      boost::system::error_code ec;
      address = boost::asio::ip::make_address(host, ec);
      if (ec) problem = "no resolver for host names";
    }
    if (!address) fail(path(), what() + ": cannot resolve '" + host + "' (" + problem + ")");
    return address;
  }

  // The address `init-addr` gives a server (libc: the system resolver; an IP; `none`: also the
  // system resolver first, since lb has no DNS resolution of its own to fill the server in
  // later, then no address); nullopt when the caller should resolve and fail as usual.
  std::optional<boost::asio::ip::address> initAddress(const lb::v1::Server& s, bool* unresolved) {
    boost::system::error_code ec;
    auto literal = boost::asio::ip::make_address(s.address(), ec);
    if (!ec) return literal;
    for (const auto& method : s.init_addr()) {
      if (method == "libc" || method == "none") {
        std::string problem;
        std::optional<boost::asio::ip::address> found;
        if (context_.resolver != nullptr) found = context_.resolver->resolve(s.address(), &problem);
        if (found) return found;
        if (method == "none") {
          *unresolved = true;
          return boost::asio::ip::address_v4::any();
        }
      } else if (method != "last") {
        auto ip = boost::asio::ip::make_address(method, ec);
        if (!ec) return ip;
      }
    }
    return std::nullopt;
  }

  // A `log` target opened: its socket, its resolved address, its format. Null after fail().
  std::shared_ptr<common::SyslogTarget> openLogTarget(const lb::v1::LogTarget& target,
                                                      const std::string& path) {
    common::SyslogTargetSpec spec;
    spec.address = target.address();
    common::SyslogKind kind;
    std::string host, problem;
    if (!common::parseSyslogAddress(target.address(), &kind, &host, &spec.udp_port, &problem)) {
      fail(path + ".address", "log target " + problem);
      return nullptr;
    }
    if (kind == common::SyslogKind::kUdp) {
      spec.udp_address = resolve(
          host, [&] { return path + ".address"; }, [] { return std::string("log target"); });
      if (!spec.udp_address) return nullptr;
    }
    spec.facility = std::max(0, common::syslogFacility(target.facility()));
    if (!target.level().empty()) spec.max_level = common::syslogLevel(target.level());
    if (!target.min_level().empty()) spec.min_level = common::syslogLevel(target.min_level());
    switch (target.format()) {
      case lb::v1::LogTarget::RFC5424:
        spec.format = common::SyslogFormat::kRfc5424;
        break;
      case lb::v1::LogTarget::RAW:
        spec.format = common::SyslogFormat::kRaw;
        break;
      case lb::v1::LogTarget::SHORT:
        spec.format = common::SyslogFormat::kShort;
        break;
      default:
        spec.format = common::SyslogFormat::kRfc3164;
    }
    if (target.has_len()) spec.max_length = target.len();
    const auto& g = config_.global();
    if (!g.log_tag().empty()) spec.tag = g.log_tag();
    if (g.has_log_send_hostname()) {
      spec.hostname = g.log_send_hostname();
      if (spec.hostname.empty()) {
        char name[256] = "";
        ::gethostname(name, sizeof name - 1);
        spec.hostname = name;
      }
    }
    std::string error;
    auto opened = common::SyslogTarget::open(spec, &error);
    if (!opened) {
      fail(path, error);
      return nullptr;
    }
    return std::shared_ptr<common::SyslogTarget>(std::move(opened));
  }

  // The global section's targets, opened once for every frontend with `log global`.
  const std::vector<std::shared_ptr<common::SyslogTarget>>& globalLogTargets() {
    if (!global_log_targets_) {
      global_log_targets_.emplace();
      const auto& g = config_.global();
      for (int i = 0; i < g.log_targets_size(); ++i) {
        auto target = openLogTarget(g.log_targets(i), "global" + at(".log_targets", i));
        if (!target) break;
        global_log_targets_->push_back(std::move(target));
      }
    }
    return *global_log_targets_;
  }

  bool addBackend(const lb::v1::Backend& be, const std::string& path) {
    auto backend = std::make_unique<BackendRuntime>();
    backend->name = be.name();
    backend->state = context_.store->backend(be.name());
    const auto& t = be.timeouts();
    backend->timeout_connect = millisIfSet(t.has_connect(), t.connect());
    backend->timeout_server = millisIfSet(t.has_server(), t.server());
    backend->timeout_server_fin = millisIfSet(t.has_server_fin(), t.server_fin());
    backend->timeout_tunnel = millisIfSet(t.has_tunnel(), t.tunnel());
    backend->timeout_queue = millisIfSet(t.has_queue(), t.queue());
    if (!backend->timeout_queue) backend->timeout_queue = backend->timeout_connect;
    backend->timeout_check = millisIfSet(t.has_check(), t.check());
    backend->retries = be.retries();
    backend->redispatch = be.redispatch();
    backend->smart_connect = !be.has_tcp_smart_connect() || be.tcp_smart_connect();
    backend->tcpka = be.tcpka();
    std::string error, where;
    backend->check_spec = makeCheckSpec(be.health_check(), &error, &where);
    if (!backend->check_spec) return fail(path + ".health_check." + where, error);
    bool queue_bounded = be.servers_size() > 0;
    backend->servers.reserve(be.servers_size());
    for (int j = 0; j < be.servers_size(); ++j) {
      const auto& s = be.servers(j);
      ServerRuntime server;
      if (!makeServer(
              be, s, [&] { return path + at(".servers", j); }, server))
        return false;
      if (server.maxqueue > 0) {
        backend->queue_limit += server.maxqueue;
      } else {
        queue_bounded = false;
      }
      backend->servers.push_back(std::move(server));
    }
    if (!queue_bounded) backend->queue_limit = 0;
    backend->balancer = balance::makeBalancer(be.balance(), be.allbackups(), *backend);
    rt_->backends.push_back(std::move(backend));
    return true;
  }

  bool makeServer(const lb::v1::Backend& be, const lb::v1::Server& s,
                  const std::function<std::string()>& path, ServerRuntime& server) {
    auto who = [&] { return "server " + be.name() + "/" + s.name(); };
    server.name = s.name();
    server.address = s.address();
    server.port = s.port();
    bool unresolved = false;
    auto address = initAddress(s, &unresolved);
    if (!address) {
      address = resolve(
          s.address(), [&] { return path() + ".address"; }, who);
      if (!address) return false;
    }
    server.endpoint = {*address, static_cast<uint16_t>(s.port())};
    server.port_offset = s.port_offset();
    server.weight = s.weight();
    server.maxconn = s.has_maxconn() ? s.maxconn() : 0;
    server.maxqueue = s.has_maxqueue() ? s.maxqueue() : 0;
    server.backup = s.backup();
    // init-addr none and a name that does not resolve: in maintenance, unchecked, until an
    // apply finds its address (HAProxy's RMAINT).
    server.disabled = s.disabled() || unresolved;
    server.check = s.check() && !unresolved;
    server.check_endpoint = server.endpoint;
    if (s.has_check_port()) server.check_endpoint.port(static_cast<uint16_t>(s.check_port()));
    if (!s.check_addr().empty()) {
      auto check_address = resolve(
          s.check_addr(), [&] { return path() + ".check_addr"; }, who);
      if (!check_address) return false;
      server.check_endpoint.address(*check_address);
    }
    server.send_proxy = s.send_proxy() == lb::v1::Server::V2   ? common::ProxyVersion::kV2
                        : s.send_proxy() == lb::v1::Server::V1 ? common::ProxyVersion::kV1
                                                               : common::ProxyVersion::kNone;
    // HAProxy: checks send the header with check-send-proxy, or by default when the traffic
    // does and the checks go where the traffic goes (no check port or address).
    const bool checks_follow_traffic = !s.has_check_port() && s.check_addr().empty();
    if (s.check_send_proxy() ||
        (server.send_proxy != common::ProxyVersion::kNone && checks_follow_traffic)) {
      server.check_send_proxy = server.send_proxy == common::ProxyVersion::kV2
                                    ? common::ProxyVersion::kV2
                                    : common::ProxyVersion::kV1;
    }
    if (s.agent_check() && s.has_agent_port()) {
      server.agent_check = true;
      server.agent_endpoint = {server.endpoint.address(), static_cast<uint16_t>(s.agent_port())};
      if (!s.agent_addr().empty()) {
        auto agent_address = resolve(
            s.agent_addr(), [&] { return path() + ".agent_addr"; }, who);
        if (!agent_address) return false;
        server.agent_endpoint.address(*agent_address);
      }
      server.agent_spec = makeAgentSpec(s.agent_send());
      if (auto inter = millisIfSet(s.has_agent_inter(), s.agent_inter());
          inter && inter->count() > 0) {
        server.agent_inter = *inter;
      }
    }
    server.health = healthSettings(s);
    server.observe_layer4 = s.observe() == lb::v1::Server::LAYER4;
    server.shutdown_sessions_on_down = s.on_marked_down() == lb::v1::Server::SHUTDOWN_SESSIONS;
    server.slowstart = millisIfSet(s.has_slowstart(), s.slowstart());
    if (server.slowstart && server.slowstart->count() <= 0) server.slowstart.reset();
    bool created = false;
    server.state = context_.store->server(be.name(), s.name(), s.address(), s.port(), &created);
    if (created) {
      // Nobody else sees a fresh state yet; a kept one changes only when the apply commits.
      server.state->weight.store(s.weight(), std::memory_order_relaxed);
      if (server.disabled) {
        server.state->admin.store(AdminState::kMaint, std::memory_order_relaxed);
      }
    }
    return true;
  }

  bool addFrontend(const lb::v1::Frontend& fe, const std::string& path) {
    FrontendRuntime frontend;
    frontend.name = fe.name();
    frontend.state = context_.store->frontend(fe.name());
    frontend.maxconn = fe.has_maxconn() ? fe.maxconn() : 0;
    frontend.timeout_client = millisIfSet(fe.timeouts().has_client(), fe.timeouts().client());
    frontend.timeout_client_fin =
        millisIfSet(fe.timeouts().has_client_fin(), fe.timeouts().client_fin());
    frontend.tcplog = fe.log().tcplog();
    frontend.dontlognull = fe.log().dontlognull();
    if (fe.log().global()) frontend.log_targets = globalLogTargets();
    for (int i = 0; i < fe.log().targets_size(); ++i) {
      auto target = openLogTarget(fe.log().targets(i), path + at(".log.targets", i));
      if (!target) return false;
      frontend.log_targets.push_back(std::move(target));
    }
    if (!error_.message.empty()) return false;
    frontend.smart_accept = fe.tcp_smart_accept();
    frontend.tcpka = fe.tcpka();
    frontend.disabled = fe.disabled();
    if (!fe.disabled()) {
      frontend.backend = rt_->findBackend(fe.default_backend());
      for (int j = 0; j < fe.binds_size(); ++j) {
        const auto& b = fe.binds(j);
        std::string bpath = path + at(".binds", j);
        auto address = resolve(
            b.address(), [&] { return bpath + ".address"; },
            [&] { return "frontend " + fe.name() + " bind"; });
        if (!address) return false;
        BindRuntime bind;
        bind.endpoint = {*address, static_cast<uint16_t>(b.port())};
        bind.frontend = fe.name();
        bind.index = static_cast<size_t>(j);
        bind.v4v6 = b.v4v6();
        bind.v6only = b.v6only();
        bind.interface = b.interface();
        bind.accept_proxy = b.accept_proxy();
        if (b.has_backlog()) bind.backlog = b.backlog();
        bind.tfo = b.tfo();
        frontend.binds.push_back(std::move(bind));
      }
    }
    rt_->frontends.push_back(std::move(frontend));
    return true;
  }

  const lb::v1::Config& config_;
  const BuildContext& context_;
  std::shared_ptr<Runtime> rt_;
  BuildError error_;
  std::optional<std::vector<std::shared_ptr<common::SyslogTarget>>> global_log_targets_;
};

}  // namespace

DerivedMaxconn deriveMaxconn(uint64_t fd_limit, size_t listeners, size_t checked_servers,
                             unsigned threads) {
  // The agent's own: stdio, the log output, the API and HTTP listeners and their clients, the
  // state directory (64); per worker its epoll sets and wake-up descriptors (8); every listening
  // socket; a check in flight per checked server, up to a quarter of the limit.
  uint64_t reserved =
      64 + 8 * uint64_t{threads} + listeners + std::min<uint64_t>(checked_servers, fd_limit / 4);
  DerivedMaxconn out;
  out.reserved = std::min(reserved, fd_limit);
  // Two sockets per connection, and a pipe (two more) for a transfer being spliced: about
  // three on average.
  uint64_t maxconn = (fd_limit - out.reserved) / 3;
  out.maxconn = static_cast<uint32_t>(std::clamp<uint64_t>(maxconn, 1, UINT32_MAX));
  return out;
}

HealthSettings healthSettings(const lb::v1::Server& server) {
  auto positive = [](bool present, const google::protobuf::Duration& d) -> std::optional<Millis> {
    auto value = millisIfSet(present, d);
    if (value) value = std::max(Millis(1), *value);
    return value;
  };
  HealthSettings s;
  s.rise = std::max<uint32_t>(1, server.rise());
  s.fall = std::max<uint32_t>(1, server.fall());
  if (auto inter = positive(server.has_inter(), server.inter())) s.inter = *inter;
  s.fastinter = positive(server.has_fastinter(), server.fastinter());
  s.downinter = positive(server.has_downinter(), server.downinter());
  s.error_limit = std::max<uint32_t>(1, server.error_limit());
  s.on_error = onError(server.on_error());
  return s;
}

BuildResult buildRuntime(const lb::v1::Config& config, const BuildContext& context) {
  return Builder(config, context).run();
}

void commitConfiguredState(const Runtime& next, const Runtime* previous) {
  if (previous == nullptr) return;
  std::map<const ServerState*, const ServerRuntime*> before;
  for (const auto& backend : previous->backends) {
    for (const auto& server : backend->servers) before[server.state.get()] = &server;
  }
  for (const auto& backend : next.backends) {
    for (const auto& server : backend->servers) {
      auto it = before.find(server.state.get());
      if (it == before.end()) continue;
      const ServerRuntime& was = *it->second;
      if (was.weight != server.weight) {
        server.state->weight.store(server.weight, std::memory_order_relaxed);
      }
      if (was.disabled != server.disabled) {
        server.state->admin.store(server.disabled ? AdminState::kMaint : AdminState::kReady,
                                  std::memory_order_relaxed);
      }
    }
  }
}

}  // namespace lb::runtime
