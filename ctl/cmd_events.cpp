// lbctl events: the events of every agent, merged in time order, each line labelled with its
// agent. With --follow it stays connected: an agent that goes away is reconnected with backoff
// and resumed after the last sequence seen, so no event is lost or shown twice, and a restarted
// agent (a new incarnation) is said to be one.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <mutex>
#include <set>

#include "ctl/commands.h"
#include "ctl/output.h"

namespace lb::ctl {

namespace {

using lb::v1::Event;

// Prints lines from several threads, one whole line at a time.
class Printer {
 public:
  Printer(bool json, Style style, size_t width) : json_(json), style_(style), width_(width) {}

  void event(const std::string& agent, const Event& e) {
    std::lock_guard lock(mutex_);
    if (json_) {
      std::cout << "{\"agent\":" << jsonQuote(agent) << ",\"event\":" << toJson(e, false, true)
                << "}" << std::endl;
      return;
    }
    Color color = Color::kNone;
    if (e.type() == Event::SERVER_STATE || e.type() == Event::ADMIN_STATE) {
      color = stateColor(e.new_state());
    } else if (e.type() == Event::BACKEND_DOWN || e.type() == Event::CONFIG_REFUSED ||
               e.type() == Event::LISTENER_ERROR) {
      color = Color::kRed;
    }
    std::cout << clockTime(e.time()) << "  " << pad(agent) << "  "
              << style_.paint(describeEvent(e), color) << std::endl;
  }

  // Something about the stream rather than an event: a restart, a reconnection, lost events.
  void note(const std::string& agent, const std::string& text) {
    std::lock_guard lock(mutex_);
    if (json_) {
      std::cout << "{\"agent\":" << jsonQuote(agent) << ",\"note\":" << jsonQuote(text) << "}"
                << std::endl;
      return;
    }
    std::cout << "              " << pad(agent) << "  " << style_.paint("-- " + text, Color::kDim)
              << std::endl;
  }

 private:
  std::string pad(const std::string& agent) const {
    return agent + std::string(width_ > agent.size() ? width_ - agent.size() : 0, ' ');
  }

  std::mutex mutex_;
  bool json_;
  Style style_;
  size_t width_;
};

// What lbctl knows of one agent's stream between connections.
struct Cursor {
  std::string incarnation;
  std::optional<uint64_t> last;  // the last sequence dealt with (shown, or filtered out)
};

lb::v1::WatchEventsRequest requestFor(const EventsFlags& flags, const std::vector<int>& types) {
  lb::v1::WatchEventsRequest request;
  request.set_backend(flags.backend);
  for (int t : types) request.add_types(static_cast<Event::Type>(t));
  return request;
}

void noteStart(Printer& printer, const std::string& agent, const lb::v1::StreamStart& start,
               std::optional<uint64_t> since) {
  if (start.lost() && since) {
    printer.note(agent, "events after " + std::to_string(*since) +
                            " have left the agent's ring (it keeps the last 10,000); "
                            "'lbctl status' shows the state now");
  }
}

// Reads what every agent holds after `since` (the stream ends after the replay), merges the
// events by time and prints them. Sets each agent's cursor.
bool listHeld(std::vector<AgentConnection>& agents, const EventsFlags& flags,
              const std::vector<int>& types, Printer& printer, std::vector<Cursor>& cursors) {
  struct Held {
    grpc::Status status;
    lb::v1::StreamStart start;
    std::vector<Event> events;
  };
  auto held = forEachAgent<Held>(agents, [&](AgentConnection& agent) {
    Held out;
    if (!agent.setupError().empty()) {  // a stream: call() is for unary calls
      out.status = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, agent.setupError());
      return out;
    }
    auto request = requestFor(flags, types);
    request.set_since(flags.since.value_or(0));
    request.set_replay_only(true);
    grpc::ClientContext context;
    agent.prepare(context);
    auto reader = agent.stub().WatchEvents(&context, request);
    lb::v1::WatchEventsResponse message;
    while (reader->Read(&message)) {
      if (message.has_start()) out.start = message.start();
      if (message.has_event()) out.events.push_back(message.event());
    }
    out.status = reader->Finish();
    return out;
  });
  struct Line {
    const Event* event;
    size_t agent;
  };
  std::vector<Line> lines;
  bool failed = false;
  for (size_t i = 0; i < held.size(); ++i) {
    if (!held[i].status.ok()) {
      printer.note(agents[i].name(), describe(held[i].status, agents[i].timeout()));
      failed = true;
      continue;
    }
    noteStart(printer, agents[i].name(), held[i].start, flags.since.value_or(0));
    cursors[i].incarnation = held[i].start.incarnation();
    cursors[i].last = std::max(held[i].start.last_sequence(), flags.since.value_or(0));
    for (const auto& e : held[i].events) lines.push_back({&e, i});
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    const auto& ta = a.event->time();
    const auto& tb = b.event->time();
    if (ta.seconds() != tb.seconds()) return ta.seconds() < tb.seconds();
    return ta.nanos() < tb.nanos();
  });
  for (const auto& line : lines) printer.event(agents[line.agent].name(), *line.event);
  return !failed;
}

// The streams to cancel when lbctl is told to stop.
class Streams {
 public:
  void add(grpc::ClientContext* context) {
    std::lock_guard lock(mutex_);
    if (stopping_) context->TryCancel();
    contexts_.insert(context);
  }
  void remove(grpc::ClientContext* context) {
    std::lock_guard lock(mutex_);
    contexts_.erase(context);
  }
  void stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto* c : contexts_) c->TryCancel();
    woken_.notify_all();
  }
  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }
  // Sleeps for `delay` unless stopped meanwhile; false when stopped.
  bool sleep(Millis delay) {
    std::unique_lock lock(mutex_);
    return !woken_.wait_for(lock, delay, [this] { return stopping_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable woken_;
  std::set<grpc::ClientContext*> contexts_;
  bool stopping_ = false;
};

// One agent's live stream, reconnected until lbctl stops.
void follow(AgentConnection& agent, const EventsFlags& flags, const std::vector<int>& types,
            Printer& printer, Cursor cursor, Streams& streams) {
  Millis backoff{200};
  bool away = false;  // disconnected, and said so
  while (!streams.stopping()) {
    auto request = requestFor(flags, types);
    if (cursor.last) request.set_since(*cursor.last);
    grpc::ClientContext context;
    agent.prepare(context, true);
    streams.add(&context);
    auto reader = agent.stub().WatchEvents(&context, request);
    lb::v1::WatchEventsResponse message;
    bool restart_numbering = false;
    bool connected = false;
    while (reader->Read(&message)) {
      if (message.has_start()) {
        const auto& start = message.start();
        connected = true;
        backoff = Millis(200);
        if (away) printer.note(agent.name(), "connected again");
        away = false;
        if (!cursor.incarnation.empty() && start.incarnation() != cursor.incarnation) {
          printer.note(agent.name(), "the agent restarted (incarnation " + cursor.incarnation +
                                         " -> " + start.incarnation() +
                                         "): events of the previous run after " +
                                         std::to_string(cursor.last.value_or(0)) +
                                         " that it did not send are gone");
          cursor.incarnation = start.incarnation();
          if (cursor.last && start.first_sequence() <= *cursor.last) {
            // Without a state directory the new run numbers from 1 again: ask for all of it.
            cursor.last = start.first_sequence() - 1;
            restart_numbering = true;
            context.TryCancel();
            break;
          }
        }
        cursor.incarnation = start.incarnation();
        noteStart(printer, agent.name(), start, cursor.last);
      } else if (message.has_event()) {
        const auto& e = message.event();
        if (cursor.last && e.sequence() <= *cursor.last) continue;  // seen already
        cursor.last = e.sequence();
        printer.event(agent.name(), e);
      } else if (message.has_lost()) {
        printer.note(agent.name(), std::to_string(message.lost().count()) +
                                       " events were dropped because lbctl read too slowly; "
                                       "'lbctl status' shows the state now");
        cursor.last = std::max(cursor.last.value_or(0), message.lost().last_dropped());
      }
    }
    grpc::Status status = reader->Finish();
    streams.remove(&context);
    if (streams.stopping()) break;
    if (restart_numbering) continue;
    if (!away) {
      printer.note(agent.name(), (connected ? "disconnected: " : "") +
                                     describe(status, agent.timeout()) + "; retrying");
      away = true;
    }
    if (!streams.sleep(backoff)) break;
    backoff = std::min(Millis(5000), backoff * 2);
  }
}

std::optional<std::vector<int>> typesOf(const std::vector<std::string>& names) {
  std::vector<int> out;
  for (auto name : names) {
    for (auto& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
    Event::Type type;
    if (!Event::Type_Parse(name, &type) || type == Event::TYPE_UNSPECIFIED) {
      std::string known;
      for (int t = Event::Type_MIN; t <= Event::Type_MAX; ++t) {
        if (Event::Type_IsValid(t) && t != Event::TYPE_UNSPECIFIED) {
          known += (known.empty() ? "" : ", ") + Event::Type_Name(static_cast<Event::Type>(t));
        }
      }
      std::cerr << "lbctl events: unknown --type '" << name << "'; use one of " << known << "\n";
      return std::nullopt;
    }
    out.push_back(type);
  }
  return out;
}

}  // namespace

int runEvents(const GlobalOptions& global, const EventsFlags& flags,
              const std::function<std::optional<std::vector<AgentConnection>>()>& connect) {
  auto types = typesOf(flags.types);
  if (!types) return kUsage;
  // SIGINT and SIGTERM end a --follow cleanly: a thread of its own waits for them. They are
  // blocked before gRPC starts its threads, which inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (flags.follow) {
    // A shell starts background jobs with SIGINT ignored, and an ignored signal never reaches
    // sigwait(): take the default back before blocking them.
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  }
  auto agents = connect();
  if (!agents) return kUsage;
  size_t width = 0;
  for (const auto& a : *agents) width = std::max(width, a.name().size());
  Printer printer(flags.output == "json", Style(colorWanted(global.no_color)), width);
  std::vector<Cursor> cursors(agents->size());
  bool all = listHeld(*agents, flags, *types, printer, cursors);
  if (!flags.follow) return all ? kOk : kFailed;
  for (size_t i = 0; i < cursors.size(); ++i) {
    // An agent that did not answer: from its next events on (or --since), once it does.
    if (cursors[i].incarnation.empty()) cursors[i].last = flags.since;
  }
  Streams streams;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < agents->size(); ++i) {
    threads.emplace_back(
        [&, i] { follow((*agents)[i], flags, *types, printer, cursors[i], streams); });
  }
  std::thread waiter([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    streams.stop();
  });
  for (auto& t : threads) t.join();
  waiter.join();
  return kOk;
}

namespace {

int run(const GlobalOptions& global, const EventsFlags& flags) {
  return runEvents(global, flags, [&] { return agentsOrSay(global); });
}

}  // namespace

void addEventsFlags(CLI::App* events, EventsFlags& flags, const std::string& follow_names) {
  events->add_flag(follow_names, flags.follow,
                   "then stay connected and show new events as they happen (Ctrl-C ends)");
  events->add_option("--since", flags.since,
                     "only events after this sequence number (default: every event held)");
  events->add_option("--backend", flags.backend, "only events of this backend");
  events->add_option("--type", flags.types,
                     "only events of this type (SERVER_STATE, ADMIN_STATE, CHECK, BACKEND_DOWN, "
                     "BACKEND_UP, CONFIG_APPLIED, CONFIG_REFUSED, LISTENER_ERROR, "
                     "SERVER_WEIGHT, AGENT_DRAIN); repeatable");
  events->add_option("-o,--output", flags.output, "text, or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));
}

void addEventsCommand(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<EventsFlags>();
  auto* events = app.add_subcommand(
      "events", "Show the agents' events (health, admin states, applies), merged in time order");
  addEventsFlags(events, *flags, "-f,--follow");
  events->footer(
      "Examples:\n"
      "  lbctl events                                   # what every agent holds\n"
      "  lbctl events --follow --type server_state      # servers going UP and DOWN, live\n"
      "  lbctl events -f --backend web_test -o json\n\n"
      "Lines read: TIME  AGENT  web_test/server2 UP -> DOWN  Layer4 connection problem: "
      "Connection refused");
  events->callback([&cli, flags] { cli.run = [&cli, flags] { return run(cli.global, *flags); }; });
}

}  // namespace lb::ctl
