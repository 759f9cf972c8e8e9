// Protocol health checks and agent-check through the real lb-agent, against real servers the
// test starts on 127.0.0.1 (redis-server, PostgreSQL, MariaDB, openssl s_server) or plays itself
// (SMTP, LDAP, the agent of agent-check). Each test shows a server going UP with the right
// answer and DOWN with a wrong one, as the management API reports it (GetStatus); waits poll
// the status with generous bounds, never a fixed sleep.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using lb::v1::ServerStatus;
namespace fs = std::filesystem;

constexpr Millis kWait = 20s;  // upper bound for "the checks noticed"

std::string config(const std::string& backend) {
  return "defaults\n"
         "    mode tcp\n"
         "    timeout connect 2s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n"
         "    timeout check 2s\n"
         "frontend fe\n"
         "    bind 127.0.0.1:0\n"
         "    default_backend be\n" +
         backend;
}

std::string address(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

// Polls the agent's status until `ok` holds for BACKEND/SERVER; returns the last status seen.
ServerStatus waitForServer(ApiClient& api, const std::string& server,
                           const std::function<bool(const ServerStatus&)>& ok,
                           Millis timeout = kWait) {
  Stopwatch clock;
  ServerStatus last;
  while (clock.elapsed() < timeout) {
    lb::v1::GetStatusResponse status;
    if (api.getStatus(&status).ok()) {
      last = serverOf(status, "be", server);
      if (ok(last)) return last;
    }
    std::this_thread::sleep_for(50ms);  // a poll interval, not a wait for something
  }
  return last;
}

bool isUp(const ServerStatus& s) {
  return s.op_state() == ServerStatus::UP;
}
bool isDown(const ServerStatus& s) {
  return s.op_state() == ServerStatus::DOWN;
}

// A free port on 127.0.0.1 chosen by the kernel, for servers that cannot take port 0 and tell
// which they got (redis-server, postgres, mariadbd, openssl). Released just before use.
uint16_t freePort() {
  RawListener listener;
  return listener.port();
}

std::string findBinary(std::initializer_list<const char*> candidates) {
  for (const char* path : candidates) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

// A server played by the test: each connection is handed to `handle` on the server's thread.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(Client&)> handle) : handle_(std::move(handle)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        int fd = listener_.accept(200ms);
        if (fd < 0) continue;
        Client connection(fd);
        handle_(connection);
      }
    });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return listener_.port(); }

 private:
  RawListener listener_;
  std::function<void(Client&)> handle_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// What a scripted server answers, changed by the test while it runs.
class Script {
 public:
  explicit Script(std::string text) : text_(std::move(text)) {}
  void set(std::string text) {
    std::lock_guard lock(mutex_);
    text_ = std::move(text);
  }
  std::string get() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  std::mutex mutex_;
  std::string text_;
};

// ---- redis-server ----

TEST(ProtocolChecksTest, RedisCheckAgainstRedisServer) {
  std::string redis = findBinary({"/usr/bin/redis-server", "/usr/local/bin/redis-server"});
  if (redis.empty()) GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)";
  TempDir dir;
  uint16_t port = freePort();
  auto server = std::make_unique<Process>(std::vector<std::string>{
      redis, "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
      "no", "--dir", dir.path(), "--daemonize", "no"});
  ASSERT_TRUE(server->waitFor(std::regex("Ready to accept connections"), kWait))
      << server->output();
  // A second backend server that is not redis: the hello backend greets with its name.
  Backend impostor("impostor");
  Agent agent(
      config("backend be\n    option redis-check\n"
             "    server redis " +
             address(port) +
             " check inter 100ms\n"
             "    server impostor " +
             impostor.address() + " check inter 100ms\n"));
  ApiClient api(agent.grpcAddress());
  auto up = waitForServer(api, "redis", [](const ServerStatus& s) {
    return isUp(s) && s.last_check().status() == "L7OK";
  });
  EXPECT_EQ(up.last_check().info(), "Redis server is ok");
  auto wrong = waitForServer(api, "impostor", isDown);
  EXPECT_EQ(wrong.op_state(), ServerStatus::DOWN) << wrong.last_check().ShortDebugString();

  // Stop redis: the server goes DOWN.
  server.reset();
  auto down = waitForServer(api, "redis", isDown);
  EXPECT_EQ(down.op_state(), ServerStatus::DOWN);
  EXPECT_EQ(down.last_check().status(), "L4CON");
}

// A database server the test starts in a temporary directory: whether it is installed, whether
// it came up (and why not), its port, and a stop that waits for it (by pid, its own signal).
class DatabaseServer {
 public:
  bool available() const { return available_; }
  bool ready() const { return ready_; }
  const std::string& problem() const { return problem_; }
  uint16_t port() const { return port_; }
  void stop() {
    if (!server_) return;
    server_->signal(stop_signal_);
    server_->wait(stop_wait_);
    server_.reset();
  }
  // Stopped before its directory goes (members are destroyed after this body).
  ~DatabaseServer() { stop(); }

 protected:
  DatabaseServer(int stop_signal, Millis stop_wait)
      : stop_signal_(stop_signal), stop_wait_(stop_wait) {}
  TempDir dir_;
  std::unique_ptr<Process> server_;
  uint16_t port_ = 0;
  bool available_ = false;
  bool ready_ = false;
  std::string problem_;

 private:
  int stop_signal_;
  Millis stop_wait_;
};

// ---- PostgreSQL ----

// A PostgreSQL cluster in a temporary directory whose pg_hba.conf lets only the role
// `postgres` in over TCP (trust). postgres refuses to run as root: under root it runs as
// `nobody` (setpriv, which execs, so the Process is postgres itself), which gets the directory.
class Postgres : public DatabaseServer {
 public:
  // A fast shutdown (SIGINT), so that no backend process outlives the test.
  Postgres() : DatabaseServer(SIGINT, 30s) {
    std::string bin = "/usr/lib/postgresql/15/bin/";
    for (const char* version : {"17", "16", "15", "14", "13"}) {
      std::string candidate = std::string("/usr/lib/postgresql/") + version + "/bin/";
      if (::access((candidate + "postgres").c_str(), X_OK) == 0) {
        bin = candidate;
        break;
      }
    }
    if (::access((bin + "postgres").c_str(), X_OK) != 0) return;
    available_ = true;
    std::vector<std::string> as_user;
    if (::geteuid() == 0) {
      passwd* nobody = ::getpwnam("nobody");
      if (nobody == nullptr) return;
      fs::permissions(dir_.path(), fs::perms::all);
      if (::chown(dir_.path().c_str(), nobody->pw_uid, nobody->pw_gid) != 0) return;
      as_user = {"/usr/bin/setpriv", "--reuid=" + std::to_string(nobody->pw_uid),
                 "--regid=" + std::to_string(nobody->pw_gid), "--clear-groups", "--"};
    }
    data_ = dir_.path() + "/data";
    auto command = [&](std::vector<std::string> argv) {
      argv.insert(argv.begin(), as_user.begin(), as_user.end());
      return argv;
    };
    Process initdb(command({bin + "initdb", "-D", data_, "-U", "postgres", "--auth=trust",
                            "--no-sync", "-E", "UTF8"}));
    auto code = initdb.wait(120s);
    if (!code || *code != 0) {
      problem_ = "initdb failed: " + initdb.output();
      return;
    }
    // Other roles get "no pg_hba.conf entry": an ErrorResponse to the check's StartupMessage.
    std::string hba = data_ + "/pg_hba.conf";
    if (FILE* f = std::fopen(hba.c_str(), "w")) {
      std::fputs("local all all trust\nhost all postgres 127.0.0.1/32 trust\n", f);
      std::fclose(f);
    }
    port_ = freePort();
    server_ = std::make_unique<Process>(
        command({bin + "postgres", "-D", data_, "-p", std::to_string(port_), "-k", dir_.path(),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"}));
    if (!server_->waitFor(std::regex("ready to accept connections"), 60s)) {
      problem_ = "postgres did not start: " + server_->output();
      return;
    }
    ready_ = true;
  }

 private:
  std::string data_;
};

TEST(ProtocolChecksTest, PgsqlCheckAgainstPostgres) {
  Postgres pg;
  if (!pg.available()) GTEST_SKIP() << "PostgreSQL is not installed (apt-get install postgresql)";
  ASSERT_TRUE(pg.ready()) << pg.problem();
  // Two backends on the same server: one logs in as a role that exists, one as a role that does
  // not (PostgreSQL answers an ErrorResponse: HAProxy marks the server down, and so does lb).
  Agent agent(
      config("backend be\n    option pgsql-check user postgres\n"
             "    server pg " +
             address(pg.port()) +
             " check inter 100ms\n"
             "backend wrong\n    option pgsql-check user nosuchrole\n"
             "    server pg " +
             address(pg.port()) + " check inter 100ms\n"));
  ApiClient api(agent.grpcAddress());
  auto up = waitForServer(api, "pg", [](const ServerStatus& s) {
    return isUp(s) && s.last_check().status() == "L7OK";
  });
  EXPECT_EQ(up.last_check().info(), "PostgreSQL server is ok");

  Stopwatch clock;
  ServerStatus wrong;
  while (clock.elapsed() < kWait) {
    lb::v1::GetStatusResponse status;
    ASSERT_TRUE(api.getStatus(&status).ok());
    wrong = serverOf(status, "wrong", "pg");
    if (wrong.op_state() == ServerStatus::DOWN) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(wrong.op_state(), ServerStatus::DOWN);
  EXPECT_EQ(wrong.last_check().status(), "L7RSP");
  EXPECT_NE(wrong.last_check().info().find("nosuchrole"), std::string::npos)
      << wrong.last_check().info();

  pg.stop();
  auto down = waitForServer(api, "pg", isDown);
  EXPECT_EQ(down.op_state(), ServerStatus::DOWN);
}

// ---- MariaDB ----

// A MariaDB server in a temporary directory, with a user 'haproxy'@'127.0.0.1' without password
// (what `option mysql-check user haproxy` logs in as).
class Mariadb : public DatabaseServer {
 public:
  Mariadb() : DatabaseServer(SIGTERM, 60s) {
    std::string server = findBinary({"/usr/sbin/mariadbd", "/usr/sbin/mysqld"});
    std::string install = findBinary({"/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"});
    if (server.empty() || install.empty()) return;
    available_ = true;
    std::string data = dir_.path() + "/data";
    std::string user = ::geteuid() == 0 ? "root" : ::getpwuid(::geteuid())->pw_name;
    Process setup({install, "--no-defaults", "--datadir=" + data, "--user=" + user,
                   "--auth-root-authentication-method=normal", "--skip-test-db"});
    auto code = setup.wait(180s);
    if (!code || *code != 0) {
      problem_ = "mariadb-install-db failed: " + setup.output();
      return;
    }
    std::string init = dir_.write("init.sql", "CREATE USER IF NOT EXISTS 'haproxy'@'127.0.0.1';\n");
    port_ = freePort();
    server_ = std::make_unique<Process>(std::vector<std::string>{
        server, "--no-defaults", "--datadir=" + data, "--port=" + std::to_string(port_),
        "--bind-address=127.0.0.1", "--socket=" + dir_.path() + "/mysqld.sock",
        "--pid-file=" + dir_.path() + "/mysqld.pid", "--user=" + user, "--skip-name-resolve",
        "--init-file=" + init, "--innodb-buffer-pool-size=16M", "--skip-log-bin"});
    if (!server_->waitFor(std::regex("ready for connections"), 120s)) {
      problem_ = "mariadbd did not start: " + server_->output();
      return;
    }
    ready_ = true;
  }
};

TEST(ProtocolChecksTest, MysqlCheckAgainstMariadb) {
  Mariadb db;
  if (!db.available()) GTEST_SKIP() << "MariaDB is not installed (apt-get install mariadb-server)";
  ASSERT_TRUE(db.ready()) << db.problem();
  Agent agent(
      config("backend be\n    option mysql-check user haproxy\n"
             "    server db " +
             address(db.port()) +
             " check inter 100ms\n"
             "backend handshake\n    option mysql-check\n"
             "    server db " +
             address(db.port()) +
             " check inter 100ms\n"
             "backend wrong\n    option mysql-check user nobody\n"
             "    server db " +
             address(db.port()) + " check inter 100ms\n"));
  ApiClient api(agent.grpcAddress());
  auto up = waitForServer(api, "db", [](const ServerStatus& s) {
    return isUp(s) && s.last_check().status() == "L7OK";
  });
  EXPECT_EQ(up.last_check().status(), "L7OK") << up.last_check().info();
  EXPECT_NE(up.last_check().info().find("MariaDB"), std::string::npos) << up.last_check().info();

  auto find = [&](const std::string& backend) {
    lb::v1::GetStatusResponse status;
    EXPECT_TRUE(api.getStatus(&status).ok());
    return serverOf(status, backend, "db");
  };
  Stopwatch clock;
  while (clock.elapsed() < kWait && (find("wrong").op_state() != ServerStatus::DOWN ||
                                     find("handshake").last_check().status() != "L7OK")) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(find("handshake").op_state(), ServerStatus::UP);
  auto wrong = find("wrong");
  EXPECT_EQ(wrong.op_state(), ServerStatus::DOWN);
  EXPECT_EQ(wrong.last_check().status(), "L7STS");
  EXPECT_NE(wrong.last_check().info().find("Access denied"), std::string::npos)
      << wrong.last_check().info();

  db.stop();
  EXPECT_EQ(waitForServer(api, "db", isDown).op_state(), ServerStatus::DOWN);
}

// ---- SMTP, LDAP (scripted servers) ----

TEST(ProtocolChecksTest, SmtpchkAgainstAScriptedMailServer) {
  Script reply("250 mx.example.com\r\n");
  std::mutex mutex;
  std::string greeting;
  ScriptedServer smtp([&](Client& c) {
    c.send("220 mx.example.com ESMTP\r\n");
    auto line = c.readLine(2s);
    if (!line) return;
    {
      std::lock_guard lock(mutex);
      greeting = *line;
    }
    c.send(reply.get());
    c.readAll(2s);  // until lb closes
  });
  Agent agent(
      config("backend be\n    option smtpchk EHLO lb.example.com\n"
             "    server mx " +
             address(smtp.port()) + " check inter 100ms\n"));
  ApiClient api(agent.grpcAddress());
  auto up = waitForServer(api, "mx", [](const ServerStatus& s) {
    return isUp(s) && s.last_check().status() == "L7OK";
  });
  EXPECT_EQ(up.last_check().info(), "mx.example.com");
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(greeting, "EHLO lb.example.com\r");
  }
  reply.set("554 5.7.1 not welcome\r\n");
  auto down = waitForServer(api, "mx", isDown);
  EXPECT_EQ(down.op_state(), ServerStatus::DOWN);
  EXPECT_EQ(down.last_check().status(), "L7STS");
  EXPECT_EQ(down.last_check().info(), "5.7.1 not welcome");
}

TEST(ProtocolChecksTest, LdapCheckAgainstAScriptedDirectory) {
  std::atomic<int> result_code{0};
  ScriptedServer ldap([&](Client& c) {
    std::string request = c.readSome(14, 2s);
    if (request.size() < 14) return;
    std::string answer("\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00", 14);
    answer[9] = static_cast<char>(result_code.load());
    c.send(answer);
    c.readAll(2s);
  });
  Agent agent(
      config("backend be\n    option ldap-check\n"
             "    server dir " +
             address(ldap.port()) + " check inter 100ms\n"));
  ApiClient api(agent.grpcAddress());
  auto up = waitForServer(api, "dir", [](const ServerStatus& s) {
    return isUp(s) && s.last_check().status() == "L7OK";
  });
  EXPECT_EQ(up.last_check().info(), "Success");
  result_code = 49;  // invalidCredentials
  auto down = waitForServer(api, "dir", isDown);
  EXPECT_EQ(down.op_state(), ServerStatus::DOWN);
  EXPECT_EQ(down.last_check().status(), "L7STS");
}

// ---- ssl-hello-chk against openssl s_server ----

TEST(ProtocolChecksTest, SslHelloChkAgainstOpensslServer) {
  std::string openssl = findBinary({"/usr/bin/openssl", "/usr/local/bin/openssl"});
  if (openssl.empty()) GTEST_SKIP() << "openssl is not installed";
  uint16_t port = freePort();
  // Without a certificate, s_server still reads the SSLv3 ClientHello and answers with a TLS
  // alert record: a TLS speaker, which is all ssl-hello-chk asks (HAProxy's L6OK).
  auto tls = std::make_unique<Process>(std::vector<std::string>{
      openssl, "s_server", "-nocert", "-accept", "127.0.0.1:" + std::to_string(port), "-quiet"});
  ASSERT_TRUE(tls->running()) << tls->output();  // the checks retry until it listens
  Backend plain("plain");                        // speaks no TLS
  Agent agent(
      config("backend be\n    option ssl-hello-chk\n"
             "    server tls " +
             address(port) +
             " check inter 100ms\n"
             "    server plain " +
             plain.address() + " check inter 100ms\n"));
  ApiClient api(agent.grpcAddress());
  auto up = waitForServer(api, "tls", [](const ServerStatus& s) {
    return isUp(s) && s.last_check().status() == "L6OK";
  });
  EXPECT_EQ(up.last_check().status(), "L6OK") << tls->output();
  auto wrong = waitForServer(api, "plain", isDown);
  EXPECT_EQ(wrong.op_state(), ServerStatus::DOWN);
  EXPECT_EQ(wrong.last_check().status(), "L6RSP");
  tls.reset();
  EXPECT_EQ(waitForServer(api, "tls", isDown).op_state(), ServerStatus::DOWN);
}

// ---- http-check disable-on-404 and http-check connect ----

TEST(ProtocolChecksTest, DisableOn404PutsAnUpServerInNolbAndBack) {
  Backend web("web", "hello");
  auto health = std::make_unique<Backend>("health", "http");
  uint16_t health_port = health->port();
  // Traffic to the hello server, checks to the HTTP one (http-check connect port).
  Agent agent(
      config("backend be\n    option httpchk GET /health\n"
             "    http-check connect port " +
             std::to_string(health_port) +
             "\n"
             "    http-check disable-on-404\n"
             "    server web " +
             web.address() + " check inter 100ms\n"));
  ApiClient api(agent.grpcAddress());
  uint16_t port = agent.port("fe");
  auto up = waitForServer(api, "web", [](const ServerStatus& s) {
    return isUp(s) && s.last_check().status() == "L7OK";
  });
  ASSERT_EQ(up.op_state(), ServerStatus::UP);
  EXPECT_EQ(whoAnswers(port), "web");

  health.reset();
  health = std::make_unique<Backend>("health", "http", "127.0.0.1",
                                     std::vector<std::string>{"--status", "404"}, health_port);
  auto nolb = waitForServer(
      api, "web", [](const ServerStatus& s) { return s.op_state() == ServerStatus::NOLB; });
  EXPECT_EQ(nolb.op_state(), ServerStatus::NOLB);
  EXPECT_EQ(nolb.last_check().status(), "L7OKC");
  EXPECT_EQ(whoAnswers(port), "");  // no new connection goes to a NOLB server

  health.reset();
  health = std::make_unique<Backend>("health", "http", "127.0.0.1", std::vector<std::string>{},
                                     health_port);
  EXPECT_EQ(waitForServer(api, "web", isUp).op_state(), ServerStatus::UP);
  EXPECT_EQ(whoAnswers(port), "web");
  // The check port closed: DOWN, though the traffic port still answers.
  health.reset();
  EXPECT_EQ(waitForServer(api, "web", isDown).op_state(), ServerStatus::DOWN);
}

// ---- agent-check ----

TEST(ProtocolChecksTest, AgentCheckSetsWeightStateAndAdminState) {
  Backend web("web");
  Script answer("up 50%\n");
  std::atomic<int> asked{0};
  ScriptedServer agent_server([&](Client& c) {
    auto line = c.readLine(2s);  // agent-send
    if (line && *line == "web") ++asked;
    c.send(answer.get());
    c.close();
  });
  Agent agent(
      config("backend be\n"
             "    server web " +
             web.address() +
             " check inter 100ms weight 10 "
             "agent-check agent-port " +
             std::to_string(agent_server.port()) + " agent-inter 100ms agent-send \"web\\n\"\n"));
  ApiClient api(agent.grpcAddress());
  auto half =
      waitForServer(api, "web", [](const ServerStatus& s) { return s.effective_weight() == 5; });
  EXPECT_EQ(half.effective_weight(), 5u);
  EXPECT_EQ(half.configured_weight(), 10u);
  EXPECT_TRUE(half.agent_enabled());
  EXPECT_EQ(half.last_agent_check().info(), "via agent : up");
  EXPECT_GT(asked.load(), 0);

  answer.set("down # maintenance window\n");
  auto down = waitForServer(api, "web", isDown);
  EXPECT_EQ(down.op_state(), ServerStatus::DOWN);
  EXPECT_EQ(down.last_agent_check().status(), "L7STS");
  EXPECT_EQ(down.last_agent_check().info(), "via agent : down (maintenance window)");
  EXPECT_EQ(down.last_check().status(), "L4OK");  // the health check alone would say UP
  EXPECT_EQ(whoAnswers(agent.port("fe")), "");

  answer.set("up drain 100%\n");
  auto drain = waitForServer(api, "web", [](const ServerStatus& s) {
    return isUp(s) && s.admin_state() == ServerStatus::DRAIN;
  });
  EXPECT_EQ(drain.admin_state(), ServerStatus::DRAIN);
  EXPECT_EQ(drain.effective_weight(), 10u);

  answer.set("ready maint\n");  // the last admin word wins
  EXPECT_EQ(
      waitForServer(api, "web",
                    [](const ServerStatus& s) { return s.admin_state() == ServerStatus::MAINT; })
          .admin_state(),
      ServerStatus::MAINT);
  answer.set("ready\n");  // agent checks go on in MAINT, so the agent can take it back
  auto ready = waitForServer(api, "web", [](const ServerStatus& s) {
    return isUp(s) && s.admin_state() == ServerStatus::READY;
  });
  EXPECT_EQ(ready.admin_state(), ServerStatus::READY);
  EXPECT_EQ(whoAnswers(agent.port("fe")), "web");

  // Every change was an event, the operator's kinds, saying it came from the agent.
  auto weights = api.heldEvents(lb::v1::Event::SERVER_WEIGHT);
  ASSERT_FALSE(weights.empty());
  EXPECT_EQ(weights.front().new_state(), "5");
  EXPECT_EQ(weights.front().origin(), "agent-check");
  auto admin = api.heldEvents(lb::v1::Event::ADMIN_STATE);
  ASSERT_GE(admin.size(), 3u);
  EXPECT_EQ(admin.front().new_state(), "DRAIN");
  EXPECT_EQ(admin.front().origin(), "agent-check");
  bool agent_down_event = false;
  for (const auto& event : api.heldEvents(lb::v1::Event::SERVER_STATE)) {
    if (event.new_state() == "DOWN" &&
        event.cause().info() == "via agent : down (maintenance window)") {
      agent_down_event = true;
    }
  }
  EXPECT_TRUE(agent_down_event);
}

TEST(ProtocolChecksTest, AnUnreachableAgentChangesNothing) {
  Backend web("web");
  uint16_t nowhere = refusedPort();
  Agent agent(config("backend be\n    server web " + web.address() +
                     " check inter 100ms agent-check agent-port " + std::to_string(nowhere) +
                     " agent-inter 100ms\n"));
  ApiClient api(agent.grpcAddress());
  auto status = waitForServer(
      api, "web", [](const ServerStatus& s) { return s.last_agent_check().status() == "L4CON"; });
  EXPECT_EQ(status.last_agent_check().status(), "L4CON");
  EXPECT_EQ(status.op_state(), ServerStatus::UP);
  EXPECT_EQ(whoAnswers(agent.port("fe")), "web");
}

}  // namespace
}  // namespace lb::testing
