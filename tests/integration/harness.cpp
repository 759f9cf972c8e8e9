#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace lb::testing {

namespace fs = std::filesystem;

Process::Process(std::vector<std::string> argv, ProcessOptions options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (options.pipe_size > 0) ::fcntl(fds[0], F_SETPIPE_SZ, options.pipe_size);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // The child's environment is built here: after fork() only async-signal-safe calls are safe.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& change : options.env) {
    std::string name = change.substr(0, change.find('='));
    std::erase_if(env_strings, [&](const std::string& e) {
      return e.compare(0, name.size() + 1, name + "=") == 0;
    });
    if (change.find('=') != std::string::npos) env_strings.push_back(change);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    if (options.nofile) {
      rlimit limit{*options.nofile, *options.nofile};
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execve(args[0], args.data(), envp.data());
    std::_Exit(127);
  }
  ::close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { readLoop(fd); });
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(10s);
  }
  resumeReading();
  if (reader_.joinable()) reader_.join();
}

void Process::readLoop(int fd) {
  char buffer[4096];
  while (true) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return !paused_; });
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) == 0) continue;  // look at paused_ again
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(mutex_);
    if (n <= 0) {
      eof_ = true;
      changed_.notify_all();
      break;
    }
    output_.append(buffer, static_cast<size_t>(n));
    changed_.notify_all();
  }
  ::close(fd);
}

std::optional<std::smatch> Process::waitFor(const std::regex& pattern, Millis timeout,
                                            size_t from) {
  std::unique_lock lock(mutex_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  static thread_local std::string copy;
  while (true) {
    copy = output_.substr(std::min(from, output_.size()));
    std::smatch match;
    if (std::regex_search(copy, match, pattern)) return match;
    if (eof_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      copy = output_.substr(std::min(from, output_.size()));
      if (std::regex_search(copy, match, pattern)) return match;
      return std::nullopt;
    }
  }
}

std::string Process::finalOutput(Millis timeout) {
  wait(timeout);
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [this] { return eof_; });
  return output_;
}

std::string Process::output() {
  std::lock_guard lock(mutex_);
  return output_;
}

size_t Process::outputSize() {
  std::lock_guard lock(mutex_);
  return output_.size();
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

void Process::pauseReading() {
  std::lock_guard lock(mutex_);
  paused_ = true;
}

void Process::resumeReading() {
  std::lock_guard lock(mutex_);
  paused_ = false;
  changed_.notify_all();
}

bool Process::running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::wait(Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // waitpid has no timeout; poll the child's state at a short interval.
    std::this_thread::sleep_for(5ms);
  }
  return exit_code_;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "lb_it_XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
  std::string file = path_ + "/" + name;
  std::ofstream(file) << text;
  return file;
}

Backend::Backend(const std::string& name, const std::string& mode, const std::string& address,
                 std::vector<std::string> extra_args, uint16_t port)
    : name_(name), host_(address) {
  std::string listen = (address.find(':') != std::string::npos ? "[" + address + "]" : address) +
                       ":" + std::to_string(port);
  std::vector<std::string> argv{
      LB_DEMO_BACKEND_PATH, "--name", name, "--listen", listen, "--mode", mode};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(argv);
  auto match = process_->waitFor(std::regex("listening on .*:([0-9]+)\n"));
  if (!match) throw std::runtime_error("backend " + name + " did not start: " + process_->output());
  port_ = static_cast<uint16_t>(std::stoi((*match)[1]));
}

std::string Backend::address() const {
  if (host_.find(':') != std::string::npos) return "[" + host_ + "]:" + std::to_string(port_);
  return host_ + ":" + std::to_string(port_);
}

void Backend::kill() {
  process_->signal(SIGKILL);
  process_->wait();
}

Agent::Agent(const std::string& config_text, std::vector<std::string> extra_args,
             ProcessOptions options) {
  config_path_ = dir_.write("lb.cfg", config_text);
  std::vector<std::string> argv{LB_AGENT_PATH, "-f", config_path_};
  if (std::find(extra_args.begin(), extra_args.end(), "--threads") == extra_args.end()) {
    argv.insert(argv.end(), {"--threads", "2"});
  }
  // Tests run in parallel: the management API on a port of the kernel's choosing.
  if (std::find(extra_args.begin(), extra_args.end(), "--grpc") == extra_args.end()) {
    argv.insert(argv.end(), {"--grpc", "127.0.0.1:0"});
  }
  if (std::find(extra_args.begin(), extra_args.end(), "--http") == extra_args.end()) {
    argv.insert(argv.end(), {"--http", "127.0.0.1:0"});
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(argv, options);
  if (!process_->waitFor(std::regex("configuration version 1 applied"))) {
    throw std::runtime_error("lb-agent did not start:\n" + process_->output());
  }
  auto api = process_->waitFor(std::regex("management API listening on ([^\n]+)\n"));
  if (!api) throw std::runtime_error("lb-agent did not open its API:\n" + process_->output());
  grpc_address_ = (*api)[1];
  // Logged before the API line when served.
  std::smatch http;
  std::string logged = process_->output();
  if (std::regex_search(logged, http, std::regex("HTTP endpoints listening on (\\S+)"))) {
    http_address_ = http[1];
  }
  std::string out = process_->output();
  std::regex listening("frontend '([^']+)' listening on .*:([0-9]+)\n");
  for (std::sregex_iterator it(out.begin(), out.end(), listening), end; it != end; ++it) {
    ports_.emplace((*it)[1], static_cast<uint16_t>(std::stoi((*it)[2])));
  }
}

uint16_t Agent::port(const std::string& frontend) const {
  auto it = ports_.find(frontend);
  if (it == ports_.end()) throw std::runtime_error("frontend " + frontend + " not listening");
  return it->second;
}

bool Agent::reload(const std::string& config_text) {
  std::ofstream(config_path_) << config_text;
  process_->signal(SIGHUP);
  auto match = process_->waitFor(
      std::regex("configuration version " + std::to_string(version_ + 1) + " applied"));
  if (match) ++version_;
  return match.has_value();
}

bool Agent::reloadRefused(const std::string& config_text) {
  size_t from = process_->outputSize();
  std::ofstream(config_path_) << config_text;
  process_->signal(SIGHUP);
  return process_->waitFor(std::regex("the running configuration is unchanged"), 10s, from)
      .has_value();
}

namespace {

bool fill(sockaddr_storage& storage, socklen_t& length, const std::string& host, uint16_t port) {
  std::memset(&storage, 0, sizeof storage);
  if (host.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    length = sizeof *a;
    return inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) == 1;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&storage);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  length = sizeof *a;
  return inet_pton(AF_INET, host.c_str(), &a->sin_addr) == 1;
}

// Waits until fd is readable; false on timeout.
bool readable(int fd, Millis timeout) {
  pollfd p{fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

}  // namespace

Client::Client(const std::string& host, uint16_t port, const std::string& source) {
  sockaddr_storage storage;
  socklen_t length;
  if (!fill(storage, length, host, port)) return;
  int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!source.empty()) {
    sockaddr_storage local;
    socklen_t local_length;
    fill(local, local_length, source, 0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), local_length) != 0) {
      ::close(fd);
      return;
    }
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    ::close(fd);
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
}

Client::~Client() {
  close();
}

Client::Client(Client&& other) noexcept : fd_(other.fd_), pending_(std::move(other.pending_)) {
  other.fd_ = -1;
}

bool Client::send(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void Client::shutdownWrite() {
  ::shutdown(fd_, SHUT_WR);
}

void Client::reset() {
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close();
}

void Client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<std::string> Client::readLine(Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto nl = pending_.find('\n'); nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !readable(fd_, left)) return std::nullopt;
    char buffer[4096];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return std::nullopt;
    pending_.append(buffer, static_cast<size_t>(n));
  }
}

std::string Client::readAll(Millis timeout, int* error) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out = std::move(pending_);
  pending_.clear();
  if (error) *error = 0;
  while (true) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !readable(fd_, left)) {
      if (error) *error = ETIMEDOUT;
      return out;
    }
    char buffer[65536];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (error) *error = errno;
      return out;
    }
    if (n == 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

std::string Client::readSome(size_t n, Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out = std::move(pending_);
  pending_.clear();
  while (out.size() < n) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !readable(fd_, left)) break;
    char buffer[65536];
    ssize_t got = ::recv(fd_, buffer, std::min(sizeof buffer, n - out.size()), 0);
    if (got <= 0) break;
    out.append(buffer, static_cast<size_t>(got));
  }
  return out;
}

bool Client::closedByPeer(Millis timeout, int* error) {
  if (error) *error = 0;
  if (!pending_.empty() || !readable(fd_, timeout)) return false;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, 0);
  if (n < 0 && error) *error = errno;
  return n <= 0;
}

bool Client::closeGracefully(Millis timeout) {
  shutdownWrite();
  int error = 0;
  readAll(timeout, &error);
  close();
  return error == 0;
}

std::string whoAnswers(uint16_t port, const std::string& host, const std::string& source) {
  Client client(host, port, source);
  if (!client.connected()) return "";
  return client.readLine().value_or("");
}

HttpAnswer httpGet(const std::string& address, const std::string& path, Millis timeout) {
  auto colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  Client client(host, static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  HttpAnswer answer;
  if (!client.connected()) return answer;
  client.send("GET " + path + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n\r\n");
  std::string response = client.readAll(timeout);
  std::smatch status;
  if (!std::regex_search(response, status, std::regex("^HTTP/1\\.[01] ([0-9]{3})"))) return answer;
  answer.status = std::stoi(status[1]);
  auto body = response.find("\r\n\r\n");
  if (body != std::string::npos) answer.body = response.substr(body + 4);
  return answer;
}

RawListener::RawListener(const std::string& host, int backlog) {
  sockaddr_storage storage;
  socklen_t length;
  fill(storage, length, host, 0);
  fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::bind(fd_, reinterpret_cast<sockaddr*>(&storage), length);
  ::listen(fd_, backlog);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length);
  port_ = storage.ss_family == AF_INET6
              ? ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port)
              : ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
}

RawListener::~RawListener() {
  ::close(fd_);
}

int RawListener::accept(Millis timeout) {
  if (!readable(fd_, timeout)) return -1;
  return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
}

BlackholeListener::BlackholeListener() : listener_("127.0.0.1", 0) {
  // Backlog 0 still queues a connection or two; connect until one gets no answer.
  for (int attempt = 0; attempt < 8 && !hangs_; ++attempt) {
    sockaddr_storage storage;
    socklen_t length;
    fill(storage, length, "127.0.0.1", listener_.port());
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    fillers_.push_back(fd);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0) continue;
    if (errno != EINPROGRESS) break;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 300) == 0) hangs_ = true;
  }
}

BlackholeListener::~BlackholeListener() {
  for (int fd : fillers_) ::close(fd);
}

FreezableForwarder::FreezableForwarder(uint16_t target_port)
    : listener_("127.0.0.1", 4), target_(target_port), thread_([this] { run(); }) {}

FreezableForwarder::~FreezableForwarder() {
  stop_ = true;
  thread_.join();
}

void FreezableForwarder::run() {
  std::vector<std::pair<int, int>> pairs;  // client, target
  while (!stop_) {
    int client = listener_.accept(20ms);
    if (client >= 0) {
      sockaddr_storage storage;
      socklen_t length;
      fill(storage, length, "127.0.0.1", target_);
      int target = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      // A small receive buffer: frozen, the target's writes stall soon.
      int small = 16384;
      ::setsockopt(target, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
      if (::connect(target, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
        ::close(client);
        ::close(target);
        continue;
      }
      pairs.emplace_back(client, target);
    }
    for (auto it = pairs.begin(); it != pairs.end();) {
      bool closed = false;
      for (int direction = 0; direction < 2 && !closed; ++direction) {
        int from = direction == 0 ? it->first : it->second;
        int to = direction == 0 ? it->second : it->first;
        if (direction == 1 && frozen_) continue;
        char buffer[16384];
        while (true) {
          ssize_t n = ::recv(from, buffer, sizeof buffer, MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed = true;
          if (n <= 0) break;
          size_t done = 0;
          while (done < static_cast<size_t>(n)) {
            ssize_t w = ::send(to, buffer + done, static_cast<size_t>(n) - done, MSG_NOSIGNAL);
            if (w <= 0) {
              closed = true;
              break;
            }
            done += static_cast<size_t>(w);
          }
          if (closed) break;
        }
      }
      if (closed) {
        ::close(it->first);
        ::close(it->second);
        it = pairs.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [client, target] : pairs) {
    ::close(client);
    ::close(target);
  }
}

bool hasIpv6Loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_storage storage;
  socklen_t length;
  fill(storage, length, "::1", 0);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0;
  ::close(fd);
  return ok;
}

uint16_t refusedPort() {
  // Bind without listening: the port is ours, so nothing else takes it, and a connect to it is
  // refused. The socket is leaked on purpose for the test process's lifetime.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t length = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
  return ntohs(a.sin_port);
}

}  // namespace lb::testing
