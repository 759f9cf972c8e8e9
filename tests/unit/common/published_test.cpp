#include "agent/common/published.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace lb::common {
namespace {

TEST(PublishedTest, NothingBeforeTheFirstPublish) {
  Published<int> published;
  EXPECT_FALSE(published.read());
  EXPECT_EQ(published.read().get(), nullptr);
}

TEST(PublishedTest, ReadsTheLastPublished) {
  Published<int> published;
  published.publish(std::make_unique<const int>(1));
  EXPECT_EQ(*published.read(), 1);
  published.publish(std::make_unique<const int>(2));
  EXPECT_EQ(*published.read(), 2);
  published.publish(std::make_unique<const int>(3));
  EXPECT_EQ(*published.read(), 3);
}

TEST(PublishedTest, AReaderKeepsItsValueAcrossOnePublish) {
  Published<int> published;
  published.publish(std::make_unique<const int>(1));
  auto reader = published.read();
  published.publish(std::make_unique<const int>(2));
  EXPECT_EQ(*reader, 1);
  EXPECT_EQ(*published.read(), 2);
}

// A value that can tell whether it was torn or freed under a reader, and which thread freed it.
struct Checked {
  explicit Checked(uint64_t v, std::atomic<int>* off_writer, std::thread::id writer)
      : value(v), check(~v), off_writer_frees(off_writer), writer_thread(writer) {}
  ~Checked() {
    if (std::this_thread::get_id() != writer_thread) ++*off_writer_frees;
    check = 0;
  }
  bool intact() const { return check == ~value; }

  uint64_t value;
  uint64_t check;
  std::atomic<int>* off_writer_frees;
  std::thread::id writer_thread;
};

TEST(PublishedTest, ReadersSeeWholeValuesWhileTheWriterReplacesThem) {
  std::atomic<int> off_writer_frees{0};
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> went_back{0};
  auto published = std::make_unique<Published<Checked>>();
  std::thread writer([&] {
    for (uint64_t v = 1; v <= 5000; ++v) {
      published->publish(
          std::make_unique<const Checked>(v, &off_writer_frees, std::this_thread::get_id()));
    }
    done = true;
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!done.load()) {
        auto reader = published->read();
        if (!reader) continue;
        if (!reader->intact()) ++torn;
        if (reader->value < last) ++went_back;
        last = reader->value;
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(went_back.load(), 0);
  EXPECT_EQ(off_writer_frees.load(), 0);
}

}  // namespace
}  // namespace lb::common
