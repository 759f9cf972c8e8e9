#include "agent/proxy/relay.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lb::proxy {

namespace {

// Reads relayed in one go before a busy direction lets the worker's other sessions run.
constexpr int kBurst = 16;
// Bytes moved per splice(2): a pipe's default capacity (16 pages).
constexpr size_t kSpliceChunk = 64 * 1024;
// Room before the bytes read early for a PROXY header (v1 takes at most 107 bytes, v2 52).
constexpr uint32_t kPreambleRoom = 108;

bool wouldBlock() {
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

// The socket will close with an RST instead of a FIN (SO_LINGER 0).
void resetOnClose(int fd) {
  if (fd < 0) return;
  linger option{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
}

}  // namespace

Relay::Relay(RelayPools& pools, uint32_t bufsize, bool splice, RelayEnd& client, RelayEnd& server)
    : pools_(pools), client_(client), server_(server), bufsize_(bufsize), splice_(splice) {
  up_.from_client = true;
}

Relay::~Relay() {
  // A relay destroyed without release() (its worker stopping) may hold pipes; they are closed,
  // not pooled, since the pool may be gone already.
  for (Direction* d : {&up_, &down_}) {
    if (!d->pipe.valid()) continue;
    ::close(d->pipe.read_end);
    ::close(d->pipe.write_end);
    d->pipe = {};
  }
}

void Relay::release() {
  releaseBuffer(up_);
  releaseBuffer(down_);
}

void Relay::releaseBuffer(Direction& d) {
  pools_.buffers.release(std::move(d.buffer), bufsize_);
  pools_.pipes.release(d.pipe, d.pending_size == 0);
}

// ---- before the server is connected ----

Relay::EarlyRead Relay::readEarly() {
  // Read past room for a PROXY header, which then goes in front without moving the bytes.
  ssize_t n = readChunk(up_, kPreambleRoom);
  if (n < 0) {
    releaseBuffer(up_);
    return wouldBlock() ? EarlyRead::kNothing : EarlyRead::kError;
  }
  up_.writing = true;  // held until a server takes it
  if (n == 0) {
    up_.eof_after_write = true;
    releaseBuffer(up_);
    return EarlyRead::kFin;
  }
  early_size_ = static_cast<uint32_t>(n);
  return EarlyRead::kData;
}

void Relay::setPreamble(std::string_view preamble) {
  if (preamble.empty() && !preamble_) return;  // the common case: never any
  preamble_ = true;
  if (up_.buffer == nullptr) up_.buffer = pools_.buffers.acquire(bufsize_);
  const auto size = static_cast<uint32_t>(preamble.size());
  std::memcpy(up_.buffer.get() + kPreambleRoom - size, preamble.data(), size);
  up_.pending_offset = kPreambleRoom - size;
  up_.pending_size = early_size_ + size;
  up_.writing = up_.pending_size > 0 || up_.eof_after_write;
}

bool Relay::hasEarlyBytes() const {
  return up_.writing && up_.pending_size > 0;
}

Relay::EarlySend Relay::sendEarly() {
  if (!hasEarlyBytes()) return EarlySend::kNothing;  // EPOLLOUT will say when connected
  if (writeChunk(up_) < 0) return wouldBlock() ? EarlySend::kWouldBlock : EarlySend::kFailed;
  return EarlySend::kSent;
}

// ---- relaying ----

Relay::Step Relay::start(common::MonoTime now) {
  Step step;
  step.rearm = true;
  for (Direction* d : {&up_, &down_}) d->read_since = d->write_since = now;
  // First what was read while connecting, then what arrived meanwhile (a client's request, a
  // server's banner), which events have announced already.
  if (!up_.writing || writeRest(up_, now, step)) {
    if (!ended_ && !up_.done && !up_.writing) pumpInto(up_, now, step);
  }
  if (!ended_ && !down_.done) pumpInto(down_, now, step);
  return step;
}

Relay::Step Relay::onEvents(bool client_side, uint32_t events, common::MonoTime now) {
  Step step;
  if (ended_) return step;
  // The direction that writes to this socket finishes its chunk, then reads on.
  Direction& to_side = client_side ? down_ : up_;
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && to_side.writing) {
    if (writeRest(to_side, now, step)) pumpInto(to_side, now, step);
    if (ended_) return step;
  }
  Direction& from_side = client_side ? up_ : down_;
  if (from(from_side).readable && !from_side.writing && !from_side.done) {
    pumpInto(from_side, now, step);
  }
  return step;
}

Relay::Step Relay::pump(Dir dir, common::MonoTime now) {
  Step step;
  Direction& d = direction(dir);
  if (!ended_ && !d.writing && !d.done) pumpInto(d, now, step);
  return step;
}

// Relays what `from` has until a read finds no more (then waits for the next event), a write
// would block (then waits for EPOLLOUT on `to`) or a burst is done (then yields).
void Relay::pumpInto(Direction& d, common::MonoTime now, Step& step) {
  for (int burst = 0; burst < kBurst; ++burst) {
    if (!from(d).readable) {
      releaseBuffer(d);  // idle: no buffer held while waiting (one may be left from readEarly)
      return;
    }
    ssize_t n = readChunk(d);
    if (n < 0) {
      releaseBuffer(d);
      if (!wouldBlock()) fail(d, true, step);
      return;
    }
    if (n == 0) {
      releaseBuffer(d);
      onReadEnd(d, now, step);
      return;
    }
    bool drained = !from(d).readable || d.eof_after_write;
    d.read_since = now;
    if (!writeRest(d, now, step)) return;
    if (drained) {
      releaseBuffer(d);
      return;
    }
    if (!d.splicing && splice_) {
      d.splicing = true;  // a full buffer: more is coming, let the kernel move it
      releaseBuffer(d);
    }
  }
  releaseBuffer(d);
  (d.from_client ? step.yield_up : step.yield_down) = true;
}

ssize_t Relay::readChunk(Direction& d, uint32_t offset) {
  if (d.splicing && !d.pipe.valid()) {
    d.pipe = pools_.pipes.acquire();
    if (!d.pipe.valid()) d.splicing = false;  // no descriptor for a pipe: copy instead
  }
  size_t want = d.splicing ? kSpliceChunk : size_t{bufsize_ - offset};
  if (!d.splicing && d.buffer == nullptr) d.buffer = pools_.buffers.acquire(bufsize_);
  ssize_t n;
  do {
    n = d.splicing ? ::splice(from(d).fd, nullptr, d.pipe.write_end, nullptr, want,
                              SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
                   : ::recv(from(d).fd, d.buffer.get() + offset, want, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (wouldBlock()) from(d).readable = false;
    return n;
  }
  if (n == 0) return 0;
  // A short read emptied the socket. If the peer's FIN had arrived before it, the FIN is next,
  // and no event will say so again: it is passed on after this chunk.
  if (static_cast<size_t>(n) == want) {
    from(d).readable = true;  // more may be waiting
  } else if (from(d).peer_fin) {
    d.eof_after_write = true;
  } else {
    from(d).readable = false;
  }
  d.bytes += static_cast<uint64_t>(n);
  d.pending_offset = d.splicing ? 0 : offset;
  d.pending_size = static_cast<uint32_t>(n);
  return n;
}

// When the source's FIN is known to follow this chunk, the chunk goes "more to come" and the
// shutdown right after it puts the FIN in the same segment (HAProxy does the same): an answer
// followed by the server's close reaches the client as one segment, acknowledged once.
ssize_t Relay::writeChunk(Direction& d) {
  const bool fin_next = d.eof_after_write;
  ssize_t written;
  do {
    written = d.pipe.valid()
                  ? ::splice(d.pipe.read_end, nullptr, to(d).fd, nullptr, d.pending_size,
                             SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (fin_next ? SPLICE_F_MORE : 0))
                  : ::send(to(d).fd, d.buffer.get() + d.pending_offset, d.pending_size,
                           MSG_NOSIGNAL | MSG_DONTWAIT | (fin_next ? MSG_MORE : 0));
  } while (written < 0 && errno == EINTR);
  if (written > 0) {
    d.pending_offset += static_cast<uint32_t>(written);
    d.pending_size -= static_cast<uint32_t>(written);
  }
  return written;
}

bool Relay::writeRest(Direction& d, common::MonoTime now, Step& step) {
  Direction& reverse = d.from_client ? down_ : up_;
  while (d.pending_size > 0) {
    if (writeChunk(d) < 0) {
      if (wouldBlock()) {
        if (!d.writing) {
          d.writing = true;  // the rest goes when `to` reports EPOLLOUT
          d.write_since = now;
          step.rearm = true;  // `to`'s write clock starts
        }
        return false;
      }
      fail(d, false, step);
      return false;
    }
    // A write to a side refreshes its read timeout too, as in HAProxy (unless its streams were
    // independent, which lb does not offer).
    d.write_since = now;
    reverse.read_since = now;
  }
  if (d.writing) {
    d.writing = false;
    d.read_since = now;  // reading from `from` resumes, and its clock with it
    step.rearm = true;
  }
  if (d.eof_after_write) {
    d.eof_after_write = false;
    releaseBuffer(d);
    onReadEnd(d, now, step);
    return false;  // the direction is done
  }
  return true;
}

void Relay::onReadEnd(Direction& d, common::MonoTime now, Step& step) {
  // A FIN: everything read before it has been written; pass it on and keep relaying the other
  // direction. The last FIN is passed on by closing (the owner's job, after its accounting).
  d.done = true;
  if (up_.done && down_.done) {
    ended_ = true;
    step.end = End::kClosed;
    return;
  }
  ::shutdown(to(d).fd, SHUT_WR);
  // The FIN is a write to `to`: its clock restarts, and client-fin / server-fin may apply now.
  (d.from_client ? down_ : up_).read_since = now;
  step.rearm = true;
}

void Relay::fail(Direction& d, bool read, Step& step) {
  ended_ = true;
  if (read) {
    // A reset (or another error) on one side is passed on as a reset of the other.
    resetOnClose(to(d).fd);
    step.end = End::kReadError;
    step.client_culprit = d.from_client;
  } else {
    releaseBuffer(d);
    resetOnClose(from(d).fd);
    step.end = End::kWriteError;
    step.client_culprit = !d.from_client;
  }
}

RelayClocks Relay::clocks() const {
  auto side = [](const Direction& sends, const Direction& receives) {
    SideClock clock;
    clock.sent_fin = sends.done;
    clock.received_fin = receives.done;
    clock.reading = !sends.done && !sends.writing;
    clock.read_since = sends.read_since;
    clock.writing = receives.writing;
    clock.write_since = receives.write_since;
    return clock;
  };
  return RelayClocks{side(up_, down_), side(down_, up_)};
}

}  // namespace lb::proxy
