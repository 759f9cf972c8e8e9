// lb-demo-backend: the tiny server behind `make demo` and the integration tests. It plays the
// guide's Backend1/2/3 web servers (answers an HTTP request with a page naming itself), or an
// echo server for relay tests.
//
//   lb-demo-backend --name backend1 --listen 127.0.0.1:8081 [--mode http|echo|hello]
//                   [--status CODE] [--body TEXT]
//
// http:  reads a request, answers "200 OK" with a page saying the name, closes. --status and
//        --body change the answer, so health checks that expect a status or a content can be
//        shown failing (a server that answers "503" or "maintenance").
// echo:  sends back every byte received; on the client's FIN, finishes sending, then FINs.
// hello: sends "NAME\n" at once, then behaves like echo.
// It prints "listening on ADDRESS:PORT" (port 0 asks the kernel for one) once it accepts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

bool sendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void echo(int fd) {
  char buffer[65536];
  while (true) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;  // FIN or error
    if (!sendAll(fd, buffer, static_cast<size_t>(n))) break;
  }
  ::shutdown(fd, SHUT_WR);
  // Wait for the peer to close too, so the close does not turn into an RST.
  char drain[1024];
  while (::recv(fd, drain, sizeof drain, 0) > 0) {
  }
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

void http(int fd, const std::string& name, int status, const std::string& custom_body) {
  std::string request;
  char buffer[4096];
  while (request.find("\r\n\r\n") == std::string::npos &&
         request.find("\n\n") == std::string::npos && request.size() < 65536) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    request.append(buffer, static_cast<size_t>(n));
  }
  std::string body = !custom_body.empty() ? custom_body + "\n"
                                          : "<html><body><h1>" + name + "</h1><p>Served by " +
                                                name + " behind lb.</p></body></html>\n";
  std::string response =
      "HTTP/1.0 " + std::to_string(status) + " " + reasonPhrase(status) +
      "\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\nX-Backend: " + name + "\r\n\r\n" + body;
  sendAll(fd, response.data(), response.size());
  ::shutdown(fd, SHUT_WR);
  while (::recv(fd, buffer, sizeof buffer, 0) > 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string name = "backend";
  std::string listen = "127.0.0.1:0";
  std::string mode = "http";
  int status = 200;
  std::string body;
  CLI::App app{"lb-demo-backend: a tiny server that names itself"};
  app.add_option("--name", name, "name to answer with")->capture_default_str();
  app.add_option("--listen", listen, "ADDRESS:PORT, [v6]:PORT; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--mode", mode, "http, echo or hello")
      ->check(CLI::IsMember({"http", "echo", "hello"}))
      ->capture_default_str();
  app.add_option("--status", status, "http mode: the status code to answer with")
      ->check(CLI::Range(100, 599))
      ->capture_default_str();
  app.add_option("--body", body,
                 "http mode: the body to answer with (default: a page naming "
                 "the server)");
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);

  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  int port = std::stoi(listen.substr(colon + 1));
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1) {
      std::fprintf(stderr, "bad address %s\n", host.c_str());
      return 2;
    }
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) {
      std::fprintf(stderr, "bad address %s\n", host.c_str());
      return 2;
    }
    length = sizeof *a;
  }
  int server = ::socket(family, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(server, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
      ::listen(server, 1024) != 0) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), std::strerror(errno));
    return 1;
  }
  ::getsockname(server, reinterpret_cast<sockaddr*>(&storage), &length);
  int bound = family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port)
                                 : ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  std::printf("%s listening on %s:%d\n", name.c_str(),
              family == AF_INET6 ? ("[" + host + "]").c_str() : host.c_str(), bound);
  std::fflush(stdout);
  while (true) {
    int fd = ::accept(server, nullptr, nullptr);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread([fd, name, mode, status, body] {
      if (mode == "http") {
        http(fd, name, status, body);
      } else {
        if (mode == "hello") {
          std::string hello = name + "\n";
          sendAll(fd, hello.data(), hello.size());
        }
        echo(fd);
      }
      ::close(fd);
    }).detach();
  }
}
