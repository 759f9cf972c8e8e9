#include "agent/http/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "agent/common/host_port.h"

namespace lb::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::asio::ip::tcp;

namespace {

// "HOST:PORT" or "[V6]:PORT" -> endpoint; a name is resolved once, here (start-up).
std::optional<tcp::endpoint> parseAddress(boost::asio::io_context& io, const std::string& text,
                                          std::string* error) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    *error = "'" + text + "' is not HOST:PORT";
    return std::nullopt;
  }
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    *error = "'" + port_text + "' in '" + text + "' is not a port (0 to 65535)";
    return std::nullopt;
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, static_cast<uint16_t>(port));
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, port_text, ec);
  if (ec || results.empty()) {
    *error = "cannot resolve '" + host + "': " + ec.message();
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

}  // namespace

// One client connection: reads a request, answers, and waits for the next (keep-alive) until
// the client closes, asks to close, or stays silent past the idle timeout.
class HttpServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {}

  void start() { read(); }
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.limits_.max_header_bytes));
    parser_->body_limit(4096);
    stream_.expires_after(server_.limits_.idle_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == boost::asio::error::operation_aborted) {
      return finish();
    }
    if (ec) {
      // A request we cannot read (too long, malformed): say so once and close.
      auto status = ec == bhttp::error::header_limit
                        ? bhttp::status::request_header_fields_too_large
                        : bhttp::status::bad_request;
      return write(makeResponse(status, "bad request: " + ec.message() + "\n", 11, false), false);
    }
    const auto& request = parser_->get();
    bool keep_alive = request.keep_alive();
    if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::head) {
      auto response =
          makeResponse(bhttp::status::method_not_allowed, "only GET and HEAD are served here\n",
                       request.version(), keep_alive);
      response.set(bhttp::field::allow, "GET, HEAD");
      return write(std::move(response), keep_alive);
    }
    std::string_view target(request.target().data(), request.target().size());
    auto question = target.find('?');
    std::string_view path = target.substr(0, question);
    std::string_view query =
        question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
    auto authorization = request[bhttp::field::authorization];
    Response answer = server_.answer(
        Request{path, std::string_view(authorization.data(), authorization.size()), query});
    auto response = makeResponse(static_cast<bhttp::status>(answer.status), std::move(answer.body),
                                 request.version(), keep_alive);
    response.set(bhttp::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) response.set(name, value);
    if (request.method() == bhttp::verb::head) {
      auto length = response.body().size();
      response.body().clear();
      response.content_length(length);
    }
    write(std::move(response), keep_alive);
  }

  static bhttp::response<bhttp::string_body> makeResponse(bhttp::status status, std::string body,
                                                          unsigned version, bool keep_alive) {
    bhttp::response<bhttp::string_body> response(status, version);
    response.set(bhttp::field::server, "lb-agent");
    response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    response.set(bhttp::field::cache_control, "no-cache");
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
  }

  void write(bhttp::response<bhttp::string_body> response, bool keep_alive) {
    response_ = std::move(response);
    response_.keep_alive(keep_alive);
    stream_.expires_after(server_.limits_.idle_timeout);
    bhttp::async_write(stream_, response_,
                       [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                         if (ec || !keep_alive) return self->finish();
                         self->read();
                       });
  }

  void finish() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
    server_.connections_.erase(this);
  }

  HttpServer& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8 * 1024};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
};

HttpServer::HttpServer(boost::asio::io_context& io, ServerLimits limits)
    : io_(io), limits_(limits), acceptor_(io), retry_(io) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string path, Handler handler) {
  routes_[std::move(path)] = std::move(handler);
}

Response HttpServer::answer(const Request& request) const {
  std::string_view path = request.path;
  auto exact = routes_.find(path);
  if (exact != routes_.end()) return exact->second(request);
  // The longest registered prefix ("/a/b/" before "/a/") that `path` starts with.
  const Handler* best = nullptr;
  size_t best_length = 0;
  for (const auto& [prefix, handler] : routes_) {
    if (prefix.back() == '/' && path.size() > prefix.size() &&
        path.substr(0, prefix.size()) == prefix && prefix.size() > best_length) {
      best = &handler;
      best_length = prefix.size();
    }
  }
  if (best != nullptr) return (*best)(request);
  std::string known;
  for (const auto& [prefix, handler] : routes_)
    known += " " + prefix + (prefix.back() == '/' ? "NAME" : "");
  return {404, "no such endpoint; this agent serves:" + known + "\n"};
}

bool HttpServer::listen(const std::string& address, std::string* error) {
  auto endpoint = parseAddress(io_, address, error);
  if (!endpoint) return false;
  boost::system::error_code ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(*endpoint, ec);
  if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = "cannot listen on " + address + ": " + ec.message();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return false;
  }
  address_ = common::formatEndpoint(acceptor_.local_endpoint());
  accept();
  return true;
}

void HttpServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      if (connections_.size() >= limits_.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        auto connection = std::make_shared<Connection>(*this, std::move(socket));
        connections_.emplace(connection.get(), connection);
        connection->start();
      }
    }
    if (ec) {
      // EMFILE and the like: try again a little later, never stop serving (nor spin).
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](boost::system::error_code wait) {
        if (!wait && acceptor_.is_open()) accept();
      });
      return;
    }
    accept();
  });
}

void HttpServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto& [raw, weak] : connections) {
    if (auto connection = weak.lock()) connection->close();
  }
}

}  // namespace lb::http
