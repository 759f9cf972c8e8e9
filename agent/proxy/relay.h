#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "agent/common/time_source.h"
#include "agent/proxy/buffer_pool.h"
#include "agent/proxy/deadlines.h"
#include "agent/proxy/pipe_pool.h"

namespace lb::proxy {

// One connected socket of a relay, as its owner's Poller reports it. What edge-triggered events
// said is kept: `readable` until a read finds nothing more, `peer_fin` for good.
struct RelayEnd {
  int fd = -1;            // borrowed: the owner opens and closes it
  bool readable = false;  // data, a FIN or an error may be waiting
  bool peer_fin = false;  // the peer's FIN has arrived (EPOLLRDHUP)
};

// What a relay borrows from its worker.
struct RelayPools {
  BufferPool& buffers;
  PipePool& pipes;
};

// Moves bytes both ways between two borrowed, non-blocking, connected sockets: the client's and
// the server's (Envoy's SplicePump; the connection's policy is the Session's). Each direction
// reads until the socket is empty, writes until the peer's socket is full (the rest waits for
// EPOLLOUT), and passes a FIN on as a shutdown once everything before it is written; an error
// while reading or writing ends the relay, and the other socket is set to close with an RST.
// A direction holds a buffer (or, for bulk transfers, a pipe for splice(2)) only while bytes are
// in flight. It keeps the clocks the deadline rules read (deadlines.h).
//
// No timers, no posting, no closing: every call does what can be done now and returns a Step
// telling the owner what it has to do next.
//
// Threads: the owner's worker only.
class Relay {
 public:
  enum class Dir { kUp, kDown };  // client -> server, server -> client

  // How the relay ended.
  enum class End {
    kRunning,
    kClosed,      // both FINs passed on
    kReadError,   // a read failed (a reset): `culprit` is the side it came from
    kWriteError,  // a write failed: `culprit` is the side it was for
  };

  struct Step {
    End end = End::kRunning;
    bool client_culprit = false;  // with an error: the client's side, else the server's
    // A direction stopped after a burst while more may be waiting: call pump(dir) later (after
    // the worker's other work), since no new event will say so.
    bool yield_up = false;
    bool yield_down = false;
    // A clock started or a FIN timeout began to apply: the next deadline may be earlier.
    bool rearm = false;
    bool ended() const { return end != End::kRunning; }
  };

  // `bufsize`: bytes per read (tune.bufsize); `splice`: bulk transfers go through a pipe
  // (global `nosplice`: never).
  Relay(RelayPools& pools, uint32_t bufsize, bool splice, RelayEnd& client, RelayEnd& server);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // ---- before the server is connected ----
  // One read of what the client has sent already (a request usually arrives with its
  // connection), held until a server takes it. A FIN read here is passed on once connected.
  enum class EarlyRead { kNothing, kData, kFin, kError };
  EarlyRead readEarly();
  // What goes to the server before the client's bytes: a PROXY protocol header (send-proxy),
  // or nothing. Set for each connect attempt: a retry may go to a server that wants none.
  void setPreamble(std::string_view preamble);
  // Whether bytes read early wait to be sent (then a connect can carry the handshake's ACK).
  bool hasEarlyBytes() const;
  enum class EarlySend { kNothing, kSent, kWouldBlock, kFailed };
  // Right after connect(): sends the bytes read early. kWouldBlock: still connecting, EPOLLOUT
  // will say; kFailed: the connect failed (errno says why); the bytes stay for a retry.
  EarlySend sendEarly();

  // ---- relaying ----
  // Starts relaying once the server is connected: what was read early, then what waits.
  Step start(common::MonoTime now);
  // Readiness events on one end (the owner has folded them into the RelayEnd already).
  Step onEvents(bool client_side, uint32_t events, common::MonoTime now);
  // Continues a direction that yielded.
  Step pump(Dir dir, common::MonoTime now);

  // The clocks of both sides, for the deadline rules.
  RelayClocks clocks() const;
  // Bytes read from the client (kUp) or from the server (kDown).
  uint64_t bytes(Dir dir) const { return dir == Dir::kUp ? up_.bytes : down_.bytes; }
  // Gives buffers and pipes back (a pipe still holding bytes is closed). Also on destruction.
  void release();

 private:
  // Kept small: a relay lives in every connection, idle ones included.
  struct Direction {
    std::unique_ptr<char[]> buffer;
    Pipe pipe{};
    uint64_t bytes = 0;
    common::MonoTime read_since{};   // `from`: last read, or when reading resumed
    common::MonoTime write_since{};  // `to`: last write progress, or when a write began waiting
    uint32_t pending_offset = 0;     // of the unwritten rest of the chunk, while writing
    uint32_t pending_size = 0;       // unwritten bytes (in the buffer, or in the pipe)
    bool from_client = false;
    bool splicing = false;
    bool done = false;             // EOF read from `from` and passed on as a shutdown of `to`
    bool writing = false;          // `to` took part of a chunk; the rest waits for EPOLLOUT
    bool eof_after_write = false;  // the chunk being written ends at `from`'s FIN
  };

  Direction& direction(Dir dir) { return dir == Dir::kUp ? up_ : down_; }
  RelayEnd& from(const Direction& d) { return d.from_client ? client_ : server_; }
  RelayEnd& to(const Direction& d) { return d.from_client ? server_ : client_; }
  void pumpInto(Direction& d, common::MonoTime now, Step& step);
  // One read into the buffer (from `offset`) or the pipe (EINTR retried): what recv or splice
  // returned.
  ssize_t readChunk(Direction& d, uint32_t offset = 0);
  // One write of the pending chunk (EINTR retried): what send or splice returned.
  ssize_t writeChunk(Direction& d);
  // Writes the chunk's rest; true when it is all written and the direction goes on.
  bool writeRest(Direction& d, common::MonoTime now, Step& step);
  void onReadEnd(Direction& d, common::MonoTime now, Step& step);
  void fail(Direction& d, bool read, Step& step);
  void releaseBuffer(Direction& d);

  RelayPools& pools_;
  RelayEnd& client_;
  RelayEnd& server_;
  Direction up_;
  Direction down_;
  uint32_t bufsize_;
  uint32_t early_size_ = 0;  // the client's bytes read early (after room for a preamble)
  bool splice_;
  bool ended_ = false;
  bool preamble_ = false;  // a preamble was set
};

}  // namespace lb::proxy
