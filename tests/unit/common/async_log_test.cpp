// AsyncLogSink: lines reach the output in order with spdlog's pattern, a stalled output drops
// lines (counted) instead of blocking the caller, and the writer says so once it catches up.
#include "agent/common/async_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace lb::common {
namespace {

using namespace std::chrono_literals;

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    ::close(read);
    ::close(write);
  }
  // Reads until `text` has arrived or the time is up.
  std::string readUntil(const std::string& text, std::chrono::milliseconds limit = 5s) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (out.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{read, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buffer[65536];
      ssize_t n = ::read(read, buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
};

TEST(AsyncLogSinkTest, LinesArriveInOrderWithThePattern) {
  Pipe pipe;
  auto sink = std::make_shared<AsyncLogSink>(pipe.write);
  spdlog::logger logger("t", sink);
  logger.set_pattern("[%l] %v");
  for (int i = 0; i < 100; ++i) logger.info("line {}", i);
  std::string out = pipe.readUntil("line 99\n");
  EXPECT_EQ(out.rfind("[info] line 0\n[info] line 1\n", 0), 0u) << out.substr(0, 100);
  EXPECT_NE(out.find("[info] line 98\n[info] line 99\n"), std::string::npos);
  EXPECT_EQ(sink->dropped(), 0u);
}

TEST(AsyncLogSinkTest, AStalledOutputDropsLinesInsteadOfBlocking) {
  Pipe pipe;
  ::fcntl(pipe.write, F_SETPIPE_SZ, 4096);
  auto sink = std::make_shared<AsyncLogSink>(pipe.write, 16 * 1024);
  spdlog::logger logger("t", sink);
  logger.set_pattern("%v");
  // Nobody reads: 64 KiB of lines into a 4 KiB pipe and a 16 KiB buffer.
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) logger.info("{:060d}", i);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "the caller was held";
  EXPECT_GT(sink->dropped(), 0u);
  uint64_t dropped = sink->dropped();
  // Reading again: what was kept arrives, then the report with the count.
  std::string out = pipe.readUntil("log lines were dropped");
  EXPECT_NE(out.find("log output is not keeping up"), std::string::npos);
  EXPECT_NE(out.find("log output caught up; " + std::to_string(dropped) + " log lines"),
            std::string::npos)
      << out.substr(out.size() > 300 ? out.size() - 300 : 0);
}

TEST(AsyncLogSinkTest, StopWritesWhatWasLoggedAndDropsWhatComesAfter) {
  Pipe pipe;
  auto sink = std::make_shared<AsyncLogSink>(pipe.write);
  spdlog::logger logger("t", sink);
  logger.set_pattern("%v");
  logger.info("before");
  sink->stop();
  logger.info("after");
  EXPECT_EQ(sink->dropped(), 1u);
  std::string out = pipe.readUntil("before\n", 1s);
  EXPECT_EQ(out, "before\n");
}

TEST(AsyncLogSinkTest, ThreadsLogIntoTheirOwnBuffers) {
  Pipe pipe;
  auto sink = std::make_shared<AsyncLogSink>(pipe.write);
  spdlog::logger logger("t", sink);
  logger.set_pattern("%v");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) logger.info("t{} {}", t, i);
    });
  }
  for (auto& thread : threads) thread.join();
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::count(out.begin(), out.end(), '\n') < 200 &&
         std::chrono::steady_clock::now() < deadline) {
    out += pipe.readUntil("\n", 100ms);
  }
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 200);
  // Each thread's lines keep their order.
  for (int t = 0; t < 4; ++t) {
    size_t last = 0;
    for (int i = 0; i < 50; ++i) {
      size_t at = out.find("t" + std::to_string(t) + " " + std::to_string(i) + "\n");
      ASSERT_NE(at, std::string::npos);
      EXPECT_GE(at, last);
      last = at;
    }
  }
}

}  // namespace
}  // namespace lb::common
