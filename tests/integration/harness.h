#pragma once

// Helpers for integration tests: real processes (lb-agent, lb-demo-backend) with their output
// captured and awaited, temporary config files, and plain blocking client sockets with
// deadlines. Ports always come from the kernel (port 0); processes are killed by pid.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace lb::testing {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

// How a Process is started.
struct ProcessOptions {
  // RLIMIT_NOFILE of the child (soft and hard), as `ulimit -n` would set it.
  std::optional<unsigned long> nofile;
  // The capacity of the pipe its output goes to (F_SETPIPE_SZ); 0 keeps the kernel's.
  int pipe_size = 0;
  // Environment changes: "NAME=VALUE" sets, "NAME" removes; the rest is the test's own.
  std::vector<std::string> env;
};

// A child process whose stdout and stderr are collected, so tests can wait for what it says.
class Process {
 public:
  explicit Process(std::vector<std::string> argv, ProcessOptions options = {});
  ~Process();  // SIGKILL if still running, then reap
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until the output from offset `from` on matches `pattern`; returns the match.
  std::optional<std::smatch> waitFor(const std::regex& pattern, Millis timeout = 10s,
                                     size_t from = 0);
  std::string output();
  // How much output there is so far: pass it to waitFor to see only what comes next.
  size_t outputSize();
  void signal(int sig);
  // Stops reading the child's output (the pipe fills up, as with a stalled log reader) until
  // resumeReading().
  void pauseReading();
  void resumeReading();
  // Waits for the process to exit; returns its exit code (128+signal), or nullopt on timeout.
  std::optional<int> wait(Millis timeout = 10s);
  // Waits for the process to exit and for its output to end; returns all of the output.
  std::string finalOutput(Millis timeout = 10s);
  bool running();

 private:
  void readLoop(int fd);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string output_;
  bool eof_ = false;
  bool paused_ = false;
};

// A temporary directory removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// lb-demo-backend: mode "hello" (sends NAME\n, then echoes), "echo" or "http". `extra_args` go
// to lb-demo-backend (e.g. {"--status", "503"}); `port` 0 lets the kernel choose (give a former
// backend's port to bring it back where it was).
class Backend {
 public:
  Backend(const std::string& name, const std::string& mode = "hello",
          const std::string& address = "127.0.0.1", std::vector<std::string> extra_args = {},
          uint16_t port = 0);
  uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  // "127.0.0.1:PORT" / "[::1]:PORT"
  std::string address() const;
  void kill();

 private:
  std::string name_;
  std::string host_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
};

// lb-agent running a config; bind ports written as 0 are discovered from its startup log.
class Agent {
 public:
  explicit Agent(const std::string& config_text, std::vector<std::string> extra_args = {},
                 ProcessOptions options = {});
  // The port the frontend listens on (its first bind).
  uint16_t port(const std::string& frontend) const;
  // Where its management API listens ("127.0.0.1:PORT").
  const std::string& grpcAddress() const { return grpc_address_; }
  // Where its HTTP endpoints listen ("127.0.0.1:PORT"); empty with --http none.
  const std::string& httpAddress() const { return http_address_; }
  const std::string& configPath() const { return config_path_; }
  Process& process() { return *process_; }
  // Rewrites the config file and sends SIGHUP; waits for the reload to be logged.
  bool reload(const std::string& config_text);
  // Same, for a configuration the agent must refuse: true once it said it kept the running one.
  bool reloadRefused(const std::string& config_text);

 private:
  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<Process> process_;
  std::map<std::string, uint16_t> ports_;
  std::string grpc_address_;
  std::string http_address_;
  int version_ = 1;
};

// A blocking TCP client with deadlines on every call.
class Client {
 public:
  // Connects to host:port; `source` binds the client's address first (e.g. "127.0.0.2").
  Client(const std::string& host, uint16_t port, const std::string& source = "");
  // Takes over a connected socket (from RawListener::accept), to play the server side.
  explicit Client(int fd) : fd_(fd) {}
  ~Client();
  Client(Client&& other) noexcept;
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool send(const std::string& data);
  void shutdownWrite();
  // Sets SO_LINGER 0 and closes: the peer gets an RST.
  void reset();
  void close();
  // Reads one '\n'-terminated line (without it); nullopt on EOF, error or timeout.
  std::optional<std::string> readLine(Millis timeout = 5s);
  // Reads until EOF (or error/timeout); `error` gets errno of a failed read (ECONNRESET...).
  std::string readAll(Millis timeout = 10s, int* error = nullptr);
  // Reads up to n bytes within the timeout.
  std::string readSome(size_t n, Millis timeout);
  // True when the peer closed (EOF or RST) within the timeout without sending anything.
  bool closedByPeer(Millis timeout, int* error = nullptr);
  // Sends FIN, reads (and drops) until the peer's FIN, closes. True when the FIN came in time:
  // through lb, the session has then ended and given back its server slot.
  bool closeGracefully(Millis timeout = 5s);

 private:
  int fd_ = -1;
  std::string pending_;
};

// Connects, reads the greeting line of a "hello" backend, closes. Returns the backend name or
// "" when the connection gave nothing.
std::string whoAnswers(uint16_t port, const std::string& host = "127.0.0.1",
                       const std::string& source = "");

// One HTTP/1.1 GET (Connection: close) to "HOST:PORT": the status code (0 when no answer came)
// and the body.
struct HttpAnswer {
  int status = 0;
  std::string body;
};
HttpAnswer httpGet(const std::string& address, const std::string& path, Millis timeout = 5s);

// A listening socket owned by the test, for servers that misbehave on purpose.
class RawListener {
 public:
  explicit RawListener(const std::string& host = "127.0.0.1", int backlog = 16);
  ~RawListener();
  uint16_t port() const { return port_; }
  // Accepts one connection within the timeout; -1 on timeout. The caller owns the fd.
  int accept(Millis timeout = 5s);

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A listener whose accept queue is full and never drained: the kernel drops further SYNs, so a
// connect to it hangs until the connector gives up (neither accepted nor refused).
class BlackholeListener {
 public:
  BlackholeListener();
  ~BlackholeListener();
  // False when the kernel still completed a direct connect (the test should skip).
  bool hangs() const { return hangs_; }
  uint16_t port() const { return listener_.port(); }

 private:
  RawListener listener_;
  std::vector<int> fillers_;
  bool hangs_ = false;
};

// A TCP forwarder on 127.0.0.1 to a local port, for one connection at a time, that can stop
// reading from the target: a client behind it looks, to the target, like one that stopped
// reading (its socket buffers fill, its flow-control windows close).
class FreezableForwarder {
 public:
  explicit FreezableForwarder(uint16_t target_port);
  ~FreezableForwarder();
  uint16_t port() const { return listener_.port(); }
  void freeze() { frozen_ = true; }
  void thaw() { frozen_ = false; }

 private:
  void run();

  RawListener listener_;
  uint16_t target_;
  std::atomic<bool> frozen_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens (connections are refused).
uint16_t refusedPort();

// Whether ::1 can be bound here (some containers have no IPv6 loopback).
bool hasIpv6Loopback();

// Time since construction, for loose lower and upper bounds on when something happened.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  Millis elapsed() const {
    return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start_);
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace lb::testing
