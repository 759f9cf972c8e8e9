#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lb::http {

// What a handler is asked.
struct Request {
  std::string_view path;           // without the query string
  std::string_view authorization;  // the Authorization header, if any
  std::string_view query;          // after '?', if any
};

// What a handler answers.
struct Response {
  Response() = default;
  Response(unsigned status_code, std::string text) : status(status_code), body(std::move(text)) {}

  unsigned status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // more header fields
};

struct ServerLimits {
  size_t max_connections = 1024;          // beyond this, new connections are closed at once
  size_t max_header_bytes = 8 * 1024;     // request line and headers
  std::chrono::seconds idle_timeout{10};  // a request must arrive (whole) within this
};

// A small HTTP/1.1 server (Boost.Beast) for the agent's read-mostly endpoints: tier health
// today, /metrics next. GET and HEAD only; keep-alive; bounded in connections, header size and
// time, so that no client can make it hold more than it allows. Handlers run on the io_context
// that runs the server, one at a time.
//
// Threads: everything on the io_context's thread (the agent's control thread).
class HttpServer {
 public:
  using Handler = std::function<Response(const Request& request)>;

  explicit HttpServer(boost::asio::io_context& io, ServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `path` answers exactly that path; a path ending in '/' answers every path below it (the
  // handler gets the whole path). The longest match wins. Register before listen().
  void route(std::string path, Handler handler);

  // "127.0.0.1:9902", "[::1]:9902", "0.0.0.0:9902"; port 0 asks the kernel. False with *error.
  bool listen(const std::string& address, std::string* error);
  // Where it listens, port 0 resolved ("127.0.0.1:40123").
  const std::string& address() const { return address_; }
  // Closes the listener and every connection.
  void stop();

  Response answer(const Request& request) const;

 private:
  class Connection;
  void accept();

  boost::asio::io_context& io_;
  ServerLimits limits_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::map<std::string, Handler, std::less<>> routes_;
  std::map<Connection*, std::weak_ptr<Connection>> connections_;
  std::string address_;
};

}  // namespace lb::http
