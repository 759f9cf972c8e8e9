#include "agent/control/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lb::control {

namespace {

std::string lastError() {
  return std::strerror(errno);
}

bool writeAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

StateFile::StateFile(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/state.pb") {}

std::optional<lb::v1::PersistedState> StateFile::load(std::string* error) const {
  error->clear();
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) *error = "cannot read " + path_ + ": " + lastError();
    return std::nullopt;
  }
  std::string bytes;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "cannot read " + path_ + ": " + lastError();
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  lb::v1::PersistedState state;
  if (!state.ParseFromString(bytes)) {
    *error = path_ + " is not an lb state file (damaged?); move it away to start without it";
    return std::nullopt;
  }
  return state;
}

bool StateFile::save(const lb::v1::PersistedState& state, std::string* error) const {
  std::string bytes;
  if (!state.SerializeToString(&bytes)) {
    *error = "cannot serialize the state";
    return false;
  }
  ::mkdir(dir_.c_str(), 0755);  // may exist already
  std::string temp = path_ + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot write " + temp + ": " + lastError();
    return false;
  }
  bool ok = writeAll(fd, bytes) && ::fsync(fd) == 0;
  if (!ok) *error = "cannot write " + temp + ": " + lastError();
  ::close(fd);
  if (!ok) {
    ::unlink(temp.c_str());
    return false;
  }
  if (::rename(temp.c_str(), path_.c_str()) != 0) {
    *error = "cannot replace " + path_ + ": " + lastError();
    ::unlink(temp.c_str());
    return false;
  }
  // The rename itself is durable once the directory is.
  int dir = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return true;
}

}  // namespace lb::control
