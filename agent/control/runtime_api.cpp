#include "agent/control/runtime_api.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <set>

#include "agent/common/cli_words.h"
#include "agent/common/proto_time.h"
#include "agent/config/address.h"

namespace lb::control {

namespace asio = boost::asio;
using asio::ip::tcp;
using local = asio::local::stream_protocol;

namespace {

constexpr size_t kMaxLine = 64 * 1024;  // a longer line closes the connection
constexpr std::chrono::seconds kDefaultTimeout{10};

CliLevel levelOf(const lb::v1::StatsSocket& socket) {
  switch (socket.level()) {
    case lb::v1::StatsSocket::USER:
      return CliLevel::kUser;
    case lb::v1::StatsSocket::ADMIN:
      return CliLevel::kAdmin;
    default:
      return CliLevel::kOperator;  // HAProxy's default
  }
}

std::string unixPath(const std::string& address) {
  return address.rfind("unix@", 0) == 0 ? address.substr(5) : address;
}

bool isUnix(const std::string& address) {
  return address.rfind("unix@", 0) == 0 ||
         (address.find('/') != std::string::npos && address.find('@') == std::string::npos);
}

}  // namespace

// One client connection: reads lines, answers each with HAProxy's framing, closes when the
// non-interactive input is answered, on `quit`, on a line too long, or when idle too long.
template <typename Protocol>
class RuntimeApi::Connection : public std::enable_shared_from_this<Connection<Protocol>> {
 public:
  Connection(typename Protocol::socket socket, RuntimeCommands& commands, CliSession session,
             std::chrono::seconds timeout)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        commands_(commands),
        session_(std::move(session)),
        timeout_(timeout),
        input_(kMaxLine) {}

  void start() { read(); }
  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  void read() {
    timer_.expires_after(session_.timeout.value_or(timeout_));
    timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->close();  // idle too long: closed without a word, as HAProxy does
    });
    asio::async_read_until(socket_, input_, '\n',
                           [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                             self->onLine(ec);
                           });
  }

  void onLine(boost::system::error_code ec) {
    timer_.cancel();
    if (ec) return close();  // EOF, reset, a line over kMaxLine
    std::string answers;
    bool close_after = false;
    // Every complete line already received is answered, in order, in one write.
    while (true) {
      auto data = input_.data();
      std::string_view pending(static_cast<const char*>(data.data()), data.size());
      auto newline = pending.find('\n');
      if (newline == std::string_view::npos) break;
      std::string line(pending.substr(0, newline));
      input_.consume(newline + 1);
      auto commands = common::splitCliLine(line);
      if (commands.empty()) commands.emplace_back();  // an empty line: the command list
      for (const auto& words : commands) {
        std::string body = commands_.run(words, session_);
        if (session_.quit) break;
        answers += body + "\n";
        if (session_.prompt) answers += "> ";
      }
      if (session_.quit) {
        close_after = true;
        break;
      }
    }
    // Not interactive: once what was sent is answered, the connection ends.
    if (!session_.prompt) close_after = true;
    if (answers.empty()) {
      if (close_after) return close();
      return read();
    }
    output_ = std::move(answers);
    asio::async_write(
        socket_, asio::buffer(output_),
        [self = this->shared_from_this(), close_after](boost::system::error_code error, size_t) {
          if (error || close_after) return self->shutdown();
          self->read();
        });
  }

  void shutdown() {
    boost::system::error_code ignored;
    socket_.shutdown(Protocol::socket::shutdown_send, ignored);
    close();
  }

  typename Protocol::socket socket_;
  asio::steady_timer timer_;
  RuntimeCommands& commands_;
  CliSession session_;
  std::chrono::seconds timeout_;
  asio::streambuf input_;
  std::string output_;
};

// One `stats socket`: its acceptor and the connections it accepted.
class RuntimeApi::Listener {
 public:
  Listener(asio::io_context& io, RuntimeCommands& commands, lb::v1::StatsSocket config,
           std::chrono::seconds timeout)
      : commands_(commands),
        config_(std::move(config)),
        timeout_(timeout),
        unix_acceptor_(io),
        tcp_acceptor_(io) {}
  ~Listener() { stop(); }

  bool open(std::string* error) {
    boost::system::error_code ec;
    const std::string& address = config_.address();
    if (isUnix(address)) {
      path_ = unixPath(address);
      std::error_code fs_error;
      // A socket file left by a previous run is replaced; any other file is not touched.
      if (std::filesystem::is_socket(path_, fs_error)) std::filesystem::remove(path_, fs_error);
      unix_acceptor_.open(local(), ec);
      if (!ec) unix_acceptor_.bind(local::endpoint(path_), ec);
      if (!ec) unix_acceptor_.listen(asio::socket_base::max_listen_connections, ec);
      if (!ec && config_.has_mode() && ::chmod(path_.c_str(), config_.mode()) != 0) {
        ec = boost::system::error_code(errno, boost::system::system_category());
      }
      if (ec) {
        *error = "stats socket " + address + ": " + ec.message();
        return false;
      }
      acceptUnix();
      return true;
    }
    std::string parse_error;
    auto host_port = config::parseHostPort(address, true, &parse_error);
    auto ip = host_port ? asio::ip::make_address(host_port->host == "*" || host_port->host.empty()
                                                     ? "0.0.0.0"
                                                     : host_port->host,
                                                 ec)
                        : asio::ip::address();
    if (!host_port || ec) {
      *error = "stats socket " + address + ": " +
               (host_port ? "not an IP address (" + ec.message() + ")" : parse_error);
      return false;
    }
    tcp::endpoint endpoint(ip, static_cast<uint16_t>(host_port->port.value_or(0)));
    tcp_acceptor_.open(endpoint.protocol(), ec);
    if (!ec) tcp_acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) tcp_acceptor_.bind(endpoint, ec);
    if (!ec) tcp_acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      *error = "stats socket " + address + ": " + ec.message();
      return false;
    }
    acceptTcp();
    return true;
  }

  std::string where() const {
    if (!path_.empty()) return path_;
    boost::system::error_code ec;
    auto endpoint = tcp_acceptor_.local_endpoint(ec);
    return ec ? config_.address()
              : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  void stop() {
    boost::system::error_code ignored;
    unix_acceptor_.close(ignored);
    tcp_acceptor_.close(ignored);
    for (auto& weak : connections_) {
      if (auto connection = weak.lock()) connection->close();
    }
    for (auto& weak : tcp_connections_) {
      if (auto connection = weak.lock()) connection->close();
    }
    connections_.clear();
    tcp_connections_.clear();
    if (!path_.empty()) {
      std::error_code fs_error;
      if (std::filesystem::is_socket(path_, fs_error)) std::filesystem::remove(path_, fs_error);
      path_.clear();
    }
  }

 private:
  CliSession session() const {
    CliSession session;
    session.level = levelOf(config_);
    session.origin = "stats socket " + config_.address();
    return session;
  }

  void acceptUnix() {
    unix_acceptor_.async_accept([this](boost::system::error_code ec, local::socket socket) {
      if (ec == asio::error::operation_aborted || !unix_acceptor_.is_open()) return;
      if (!ec) {
        auto connection =
            std::make_shared<Connection<local>>(std::move(socket), commands_, session(), timeout_);
        prune();
        connections_.push_back(connection);
        connection->start();
      }
      acceptUnix();
    });
  }

  void acceptTcp() {
    tcp_acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !tcp_acceptor_.is_open()) return;
      if (!ec) {
        auto connection =
            std::make_shared<Connection<tcp>>(std::move(socket), commands_, session(), timeout_);
        prune();
        tcp_connections_.push_back(connection);
        connection->start();
      }
      acceptTcp();
    });
  }

  void prune() {
    std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
    std::erase_if(tcp_connections_, [](const auto& weak) { return weak.expired(); });
  }

  RuntimeCommands& commands_;
  lb::v1::StatsSocket config_;
  std::chrono::seconds timeout_;
  local::acceptor unix_acceptor_;
  tcp::acceptor tcp_acceptor_;
  std::string path_;
  std::vector<std::weak_ptr<Connection<local>>> connections_;
  std::vector<std::weak_ptr<Connection<tcp>>> tcp_connections_;
};

RuntimeApi::RuntimeApi(asio::io_context& io, ControlPlane& control, const AgentIdentity& identity)
    : io_(io), control_(control), commands_(control, identity) {
  // Every apply is an event: the sockets follow the configuration it put in force.
  subscription_ = control_.events().subscribe([this](const lb::v1::Event& event) {
    if (event.type() != lb::v1::Event::CONFIG_APPLIED) return;
    asio::post(io_, [this] { follow(control_.config().global()); });
  });
}

RuntimeApi::~RuntimeApi() {
  control_.events().unsubscribe(subscription_);
  stop();
}

void RuntimeApi::follow(const lb::v1::Global& global) {
  std::chrono::seconds timeout = kDefaultTimeout;
  if (global.has_stats_timeout()) {
    timeout = std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(
                                                    common::fromProto(global.stats_timeout())));
  }
  std::map<std::string, lb::v1::StatsSocket> wanted;
  for (const auto& socket : global.stats_sockets()) {
    wanted[socket.SerializeAsString() + "/" + std::to_string(timeout.count())] = socket;
  }
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
    } else {
      spdlog::info("Runtime API: closed stats socket {}", it->second->where());
      it = listeners_.erase(it);
    }
  }
  for (auto& [key, socket] : wanted) {
    if (listeners_.contains(key)) continue;
    auto listener = std::make_unique<Listener>(io_, commands_, socket, timeout);
    std::string error;
    if (!listener->open(&error)) {
      spdlog::error("Runtime API: {}", error);
      lb::v1::Event event;
      event.set_type(lb::v1::Event::LISTENER_ERROR);
      event.set_config_version(control_.version());
      event.set_message("Runtime API: " + error);
      control_.events().publish(std::move(event));
      continue;
    }
    spdlog::info("Runtime API listening on {} (level {})", listener->where(),
                 toString(levelOf(socket)));
    listeners_.emplace(key, std::move(listener));
  }
}

void RuntimeApi::stop() {
  listeners_.clear();
}

}  // namespace lb::control
