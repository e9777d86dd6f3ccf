// The network side of the simulator: one io_context per thread, an acceptor handing each
// new connection to the next thread in turn, HTTP/1.1 keep-alive connections parsed with
// Beast and answered with hand-written responses (plain or chunked SSE).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "sim/api.h"
#include "sim/sim.h"
#include "sim/state.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 529:
      return "Overloaded";
    default:
      return "Unknown";
  }
}

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

Route route_of(std::string_view path) {
  if (path == "/v1/chat/completions") return Route::kChat;
  if (path == "/v1/completions") return Route::kCompletions;
  if (path == "/v1/messages") return Route::kMessages;
  if (path == "/v1/models") return Route::kModels;
  if (path == "/tokenize") return Route::kTokenize;
  if (path == "/detokenize") return Route::kDetokenize;
  if (path == "/health") return Route::kHealth;
  if (path == "/metrics") return Route::kMetrics;
  if (path == "/sim/stats") return Route::kStats;
  return Route::kOther;
}

std::string detail_body(const char* detail) {
  return fmt::format(R"({{"detail":"{}"}})", detail);
}

// One chunk of a chunked body; never the empty chunk, which would end the body.
std::string chunk(std::string_view data) {
  if (data.empty()) return std::string();
  return fmt::format("{:x}\r\n", data.size()) + std::string(data) + "\r\n";
}

}  // namespace

void validate(const SimOptions& o) {
  if (o.port < 0 || o.port > 65535) throw Error("--port must be 0..65535", "retort sim");
  if (o.models.empty()) throw Error("at least one --model is needed", "retort sim");
  for (double r : {o.fail_429, o.fail_500, o.fail_503, o.fail_reset, o.fail_malformed,
                   o.fail_truncate, o.fail_stall}) {
    if (!(r >= 0 && r <= 1)) {
      throw Error("fault rates (--fail-*) must be between 0 and 1", "retort sim");
    }
  }
  double sum = o.fail_429 + o.fail_500 + o.fail_503 + o.fail_reset + o.fail_malformed +
               o.fail_truncate + o.fail_stall;
  if (sum > 1 + 1e-9) {
    throw Error(fmt::format("fault rates add up to {} (> 1)", sum), "retort sim",
                "each request gets at most one fault; lower the --fail-* rates");
  }
  if (o.ttft_ms < 0 || o.tpot_ms < 0) throw Error("--ttft-ms/--tpot-ms must be >= 0", "retort sim");
  if (o.max_seqs < 0) throw Error("--max-seqs must be >= 0", "retort sim");
  if (o.max_model_len < 1) throw Error("--max-model-len must be >= 1", "retort sim");
  if (o.retry_after_s < 0) throw Error("--retry-after must be >= 0", "retort sim");
  if (o.default_logprob > 0) throw Error("--default-logprob must be <= 0", "retort sim");
  if (o.mode == Mode::kFixed && !o.reply) {
    throw Error("--mode fixed needs --reply TEXT", "retort sim");
  }
  if (o.mode == Mode::kScript && o.script_path.empty()) {
    throw Error("--mode script needs --script FILE", "retort sim",
                R"(a JSONL file of rules like {"pattern": "2\\+2", "reply": "4"})");
  }
}

class Connection;

struct Server::Impl {
  explicit Impl(const SimOptions& o)
      : options(o),
        script(o.mode == Mode::kScript ? std::make_unique<Script>(Script::load(o.script_path))
                                       : nullptr),
        api(options, script.get()),
        scheduler(o.max_seqs) {}

  SimOptions options;
  std::unique_ptr<Script> script;
  // Before everything a connection may point into, so it is destroyed last.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  Api api;
  Counters counters;
  BodyTracker bodies;
  SeqScheduler scheduler;
  PrefixCache prefix_cache;
  std::string expected_auth;
  std::unique_ptr<tcp::acceptor> acceptor;
  size_t next_context = 0;
  int port = 0;
  std::atomic<bool> stopping{false};

  void accept_next();
  Fault draw_fault(const BodyKey& key, uint32_t attempt) const;
  std::string stats_json() const;
  std::string metrics_text() const;
};

// One client connection. Lives on one io_context thread; everything below runs there.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Server::Impl& srv)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), srv_(srv) {}

  void start() {
    beast::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    read_request();
  }

 private:
  void read_request() {
    parser_.emplace();
    parser_->body_limit(1ull << 30);
    parser_->header_limit(1 << 20);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    auto& req = parser_->get();
    auto expect = req.find(http::field::expect);
    if (expect != req.end() && beast::iequals(expect->value(), "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(kContinue),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        keep_alive_ = false;
        write_simple(413, "application/json", detail_body("Request Entity Too Large"), "");
        return;
      }
      close();
      return;
    }
    handle(parser_->get());
  }

  void handle(const http::request<http::string_body>& req);

  // Notices a client that hangs up while its request is being worked on (queued, waiting
  // for its tokens, or stalled), so its sequence slot is freed at once.
  void watch_for_hangup() {
    if (watching_ || closed_) return;
    watching_ = true;
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      self->watching_ = false;
      if (self->closed_) return;
      if (ec) {
        if (ec != asio::error::operation_aborted) self->close();
        return;
      }
      char c;
      ssize_t n = ::recv(self->socket_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) self->close();
      // n > 0: the next (pipelined) request is already here; read_request() will take it.
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    release_slot();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  void reset() {
    closed_ = true;
    beast::error_code ec;
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
    socket_.close(ec);
  }

  // Frees the sequence slot; at is when the sequence ended on the latency model's clock.
  void release_slot(Clock::time_point at = Clock::now()) {
    if (!holding_slot_) return;
    holding_slot_ = false;
    srv_.scheduler.release(at);
  }

  std::string head(int status, std::string_view content_type, bool chunked, size_t length,
                   std::string_view extra) const {
    std::string h = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\n", status,
                                reason_phrase(status), content_type);
    if (chunked) {
      h += "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n";
    } else {
      h += fmt::format("Content-Length: {}\r\n", length);
    }
    h += keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    h += extra;
    h += "\r\n";
    return h;
  }

  void count_status(int status) {
    if (route_ == Route::kStats || route_ == Route::kMetrics) return;  // see handle()
    srv_.counters.by_status[static_cast<size_t>(status)]++;
  }

  // Writes out_ (after the status was counted), then goes on with the next request.
  // A success is recorded as the complete answer is handed to the socket, so that a client
  // that has read its answer and then asks /sim/stats always sees it counted.
  void write_out(bool success) {
    if (success) record_success();
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->next_request();
                      });
  }

  void write_simple(int status, std::string_view content_type, std::string body,
                    std::string_view extra) {
    count_status(status);
    out_ = head(status, content_type, false, body.size(), extra);
    out_ += body;
    log_line(status);
    write_out(false);
  }

  void next_request() {
    if (closed_) return;
    if (!keep_alive_ || srv_.stopping) {
      close();
      return;
    }
    read_request();
  }

  void record_success() {
    srv_.counters.successes++;
    bool dup = srv_.bodies.succeed(key_);
    if (dup && !counted_duplicate_) srv_.counters.duplicate_successes++;
  }

  void log_line(int status) {
    if (!srv_.options.verbose) return;
    log::info("{} {} {}", method_, path_, status);
  }

  // Generation: wait for a sequence slot, then answer on the latency model's schedule.
  void generate(Reply reply, Fault fault) {
    reply_ = std::move(reply);
    fault_ = fault;
    watch_for_hangup();
    auto self = shared_from_this();
    auto executor = socket_.get_executor();
    Clock::time_point arrived = Clock::now();
    // A queued request is resumed on its own thread, never inside the releaser's stack. It
    // starts when the slot was freed on the model's clock, but not before it arrived.
    if (srv_.scheduler.acquire([self, executor, arrived](Clock::time_point freed_at) {
          asio::post(executor,
                     [self, start = std::max(arrived, freed_at)]() { self->on_slot(start); });
        })) {
      on_slot(arrived);
    }
  }

  void on_slot(Clock::time_point start) {
    holding_slot_ = true;
    if (closed_) {
      release_slot();
      return;
    }
    const auto& o = srv_.options;
    double ttft = o.ttft_ms;
    if (o.prefix_cache && !reply_.prompt_ids.empty()) {
      size_t cached = srv_.prefix_cache.lookup_and_insert(reply_.prompt_ids);
      cached = std::min(cached, reply_.prompt_ids.size() - 1);
      srv_.counters.prefix_queries += reply_.prompt_ids.size();
      srv_.counters.prefix_hits += cached;
      ttft *= static_cast<double>(reply_.prompt_ids.size() - cached) /
              static_cast<double>(reply_.prompt_ids.size());
    }
    start_ = start;
    first_token_at_ = start_ + std::chrono::microseconds(static_cast<int64_t>(ttft * 1000));
    srv_.counters.prompt_tokens += reply_.prompt_tokens;
    srv_.counters.generation_tokens += reply_.completion_tokens;
    if (reply_.stream) {
      step_ = 0;
      wait_until(first_token_at_, [this]() { stream_step(); });
    } else {
      auto done = step_time(reply_.output_steps - 1);
      wait_until(done, [this]() { finish_plain(); });
    }
  }

  Clock::time_point step_time(size_t step) const {
    return first_token_at_ + std::chrono::microseconds(static_cast<int64_t>(
                                 srv_.options.tpot_ms * 1000 * static_cast<double>(step)));
  }

  template <typename F>
  void wait_until(Clock::time_point t, F then) {
    if (t <= Clock::now()) {
      then();
      return;
    }
    timer_.expires_at(t);
    timer_.async_wait([self = shared_from_this(), then](beast::error_code ec) {
      if (ec || self->closed_) return;
      then();
    });
  }

  void finish_plain() {
    release_slot(step_time(reply_.output_steps - 1));
    if (fault_ == Fault::kMalformed) {
      write_simple(200, reply_.content_type, reply_.body.substr(0, reply_.body.size() / 2), "");
      return;
    }
    if (fault_ == Fault::kTruncate) {
      // Promise the whole body, send half of it, hang up.
      count_status(200);
      log_line(200);
      out_ = head(200, reply_.content_type, false, reply_.body.size(), "");
      out_.append(reply_.body, 0, reply_.body.size() / 2);
      asio::async_write(socket_, asio::buffer(out_),
                        [self = shared_from_this()](beast::error_code, size_t) { self->close(); });
      return;
    }
    count_status(200);
    log_line(200);
    out_ = head(200, reply_.content_type, false, reply_.body.size(), "");
    out_ += reply_.body;
    write_out(true);
  }

  // Streams step_ (and, on the last step, the tail), then schedules the next step.
  void stream_step() {
    const size_t n = reply_.steps.size();
    // A truncated stream ends cleanly after about half of its steps, with no final chunk
    // and no [DONE].
    const size_t limit = fault_ == Fault::kTruncate ? (n + 1) / 2 : n;
    out_.clear();
    if (step_ == 0) {
      count_status(200);
      log_line(200);
      out_ = head(200, reply_.content_type, true, 0, "");
      if (fault_ == Fault::kMalformed) {
        // A data event whose JSON breaks off (after any "event:" line before it), then a
        // normal end.
        const std::string& first = reply_.steps.front();
        size_t data = first.rfind("data:", 0) == 0 ? 0 : first.find("\ndata:") + 1;
        size_t line_end = first.find('\n', data);
        out_ += chunk(first.substr(0, data + (line_end - data) / 2) + "\n\n" + reply_.stream_done);
        out_ += "0\r\n\r\n";
        release_slot(first_token_at_);
        write_out(false);
        return;
      }
    }
    bool zero_latency = srv_.options.tpot_ms <= 0;
    // Without a per-token delay every remaining step goes out in this one write.
    size_t end = zero_latency ? limit : std::min(limit, step_ + 1);
    for (; step_ < end; ++step_) out_ += chunk(reply_.steps[step_]);
    bool last = step_ >= limit;
    if (last) {
      release_slot(step_time(limit - 1));
      if (fault_ != Fault::kTruncate) out_ += chunk(reply_.stream_tail + reply_.stream_done);
      out_ += "0\r\n\r\n";
      write_out(fault_ == Fault::kNone);
      return;
    }
    asio::async_write(
        socket_, asio::buffer(out_), [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) {
            self->close();
            return;
          }
          self->wait_until(self->step_time(self->step_), [self]() { self->stream_step(); });
        });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  Server::Impl& srv_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string out_;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool watching_ = false;
  bool holding_slot_ = false;
  bool counted_duplicate_ = false;
  std::string method_;
  std::string path_;
  Route route_ = Route::kOther;
  BodyKey key_;
  Reply reply_;
  Fault fault_ = Fault::kNone;
  Clock::time_point start_;
  Clock::time_point first_token_at_;
  size_t step_ = 0;
};

void Connection::handle(const http::request<http::string_body>& req) {
  auto& srv = srv_;
  auto& c = srv.counters;
  keep_alive_ = req.keep_alive();
  counted_duplicate_ = false;
  fault_ = Fault::kNone;
  method_ = std::string(req.method_string());
  std::string_view target(req.target().data(), req.target().size());
  path_ = std::string(target.substr(0, target.find('?')));
  Route route = route_ = route_of(path_);
  // Monitoring must not disturb what it measures: stats and metrics reads are not counted.
  if (route != Route::kStats && route != Route::kMetrics) {
    c.requests_total++;
    c.by_route[static_cast<size_t>(route)]++;
  }
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;
  auto method_not_allowed = [&]() {
    write_simple(405, "application/json", detail_body("Method Not Allowed"), "");
  };
  auto send = [&](const Reply& r) {
    write_simple(r.status, r.content_type, r.body, r.extra_headers);
  };

  // Anthropic's route wants the key as "x-api-key: KEY" (Anthropic's clients send no
  // Authorization header); the OpenAI routes take either form.
  if (!srv.expected_auth.empty() && starts_with(path_, "/v1/")) {
    auto bearer = req.find(http::field::authorization);
    auto x_api_key = req.find("x-api-key");
    bool key_ok = x_api_key != req.end() && x_api_key->value() == srv.options.api_key;
    if (route == Route::kMessages) {
      if (!key_ok) {
        send(anthropic_error_reply(
            401, "authentication_error",
            x_api_key == req.end() ? "x-api-key header is required" : "invalid x-api-key"));
        return;
      }
    } else if (!key_ok && (bearer == req.end() || bearer->value() != srv.expected_auth)) {
      send(openai_error_reply(401,
                              "Incorrect API key provided. Pass it as 'Authorization: Bearer "
                              "KEY'.",
                              "invalid_request_error", "invalid_api_key"));
      return;
    }
  }

  switch (route) {
    case Route::kHealth:
      if (!get) return method_not_allowed();
      return write_simple(200, "application/json", "", "");
    case Route::kModels:
      if (!get) return method_not_allowed();
      return send(srv.api.models());
    case Route::kMetrics:
      if (!get) return method_not_allowed();
      return write_simple(200, "text/plain; version=0.0.4; charset=utf-8", srv.metrics_text(), "");
    case Route::kStats:
      if (!get) return method_not_allowed();
      return write_simple(200, "application/json", srv.stats_json(), "");
    case Route::kTokenize:
      if (!post) return method_not_allowed();
      return send(srv.api.tokenize(req.body()));
    case Route::kDetokenize:
      if (!post) return method_not_allowed();
      return send(srv.api.detokenize(req.body()));
    case Route::kOther:
      return write_simple(404, "application/json", detail_body("Not Found"), "");
    default:
      break;
  }
  if (!post) return method_not_allowed();

  // Generation routes: fault decision, then the API, then the latency model.
  key_ = body_key(path_, req.body());
  auto arrival = srv.bodies.arrive(key_);
  if (arrival.already_succeeded) {
    counted_duplicate_ = true;
    c.duplicate_successes++;
  }
  Fault fault = srv.draw_fault(key_, arrival.attempt);
  if (fault != Fault::kNone) c.faults[static_cast<size_t>(fault)]++;
  const bool anthropic = route == Route::kMessages;
  switch (fault) {
    case Fault::k429: {
      Reply r =
          anthropic
              ? anthropic_error_reply(429, "rate_limit_error",
                                      "This request would exceed your rate limit (simulated). "
                                      "Retry after a while.")
              : openai_error_reply(429, "Rate limit reached (simulated). Retry after a while.",
                                   "rate_limit_error", "rate_limit_exceeded");
      return write_simple(429, r.content_type, r.body,
                          fmt::format("Retry-After: {}\r\n", srv.options.retry_after_s));
    }
    case Fault::k500: {
      Reply r = anthropic
                    ? anthropic_error_reply(500, "api_error", "Internal server error")
                    : error_reply(500, "Internal server error (simulated).", "InternalServerError");
      return send(r);
    }
    case Fault::k503: {
      // Anthropic's API says it is unavailable with 529 overloaded_error, not 503.
      Reply r = anthropic ? anthropic_error_reply(529, "overloaded_error", "Overloaded")
                          : error_reply(503, "Service unavailable (simulated).",
                                        "ServiceUnavailableError");
      return send(r);
    }
    case Fault::kReset:
      log_line(0);
      return reset();
    case Fault::kStall:
      log_line(0);
      return watch_for_hangup();
    default:
      break;
  }
  Reply r = route == Route::kChat       ? srv.api.chat(req.body())
            : route == Route::kMessages ? srv.api.messages(req.body())
                                        : srv.api.completions(req.body());
  if (r.status != 200) return send(r);
  generate(std::move(r), fault);
}

Fault Server::Impl::draw_fault(const BodyKey& key, uint32_t attempt) const {
  const auto& o = options;
  double rates[] = {o.fail_429,       o.fail_500,      o.fail_503,  o.fail_reset,
                    o.fail_malformed, o.fail_truncate, o.fail_stall};
  double total = 0;
  for (double r : rates) total += r;
  if (total <= 0) return Fault::kNone;
  double u = uniform01(o.seed, key, attempt);
  double acc = 0;
  for (int i = 0; i < 7; ++i) {
    acc += rates[i];
    if (rates[i] > 0 && u < acc) return static_cast<Fault>(i + 1);
  }
  return Fault::kNone;
}

std::string Server::Impl::stats_json() const {
  Json j = Json::object();
  j["requests_total"] = counters.requests_total.load();
  Json routes = Json::object();
  for (size_t i = 0; i < static_cast<size_t>(Route::kCount); ++i) {
    uint64_t n = counters.by_route[i].load();
    if (n) routes[route_name(static_cast<Route>(i))] = n;
  }
  j["by_route"] = std::move(routes);
  Json statuses = Json::object();
  for (size_t i = 0; i < counters.by_status.size(); ++i) {
    uint64_t n = counters.by_status[i].load();
    if (n) statuses[std::to_string(i)] = n;
  }
  j["by_status"] = std::move(statuses);
  Json faults = Json::object();
  for (size_t i = 1; i < static_cast<size_t>(Fault::kCount); ++i) {
    uint64_t n = counters.faults[i].load();
    if (n) faults[fault_name(static_cast<Fault>(i))] = n;
  }
  j["faults"] = std::move(faults);
  j["successes"] = counters.successes.load();
  j["duplicate_successes"] = counters.duplicate_successes.load();
  j["unique_bodies"] = bodies.unique_bodies();
  j["running"] = scheduler.running();
  j["waiting"] = scheduler.waiting();
  return j.dump();
}

std::string Server::Impl::metrics_text() const {
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  const std::string& model = options.models.front();
  metric("vllm:num_requests_running", "gauge", "Number of requests currently running.");
  out += fmt::format("vllm:num_requests_running{{model_name=\"{}\"}} {}\n", model,
                     scheduler.running());
  metric("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
  out += fmt::format("vllm:num_requests_waiting{{model_name=\"{}\"}} {}\n", model,
                     scheduler.waiting());
  metric("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
  out += fmt::format("vllm:prompt_tokens_total{{model_name=\"{}\"}} {}\n", model,
                     counters.prompt_tokens.load());
  metric("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.");
  out += fmt::format("vllm:generation_tokens_total{{model_name=\"{}\"}} {}\n", model,
                     counters.generation_tokens.load());
  metric("vllm:request_success_total", "counter", "Count of successfully processed requests.");
  out += fmt::format("vllm:request_success_total{{model_name=\"{}\"}} {}\n", model,
                     counters.successes.load());
  metric("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in tokens.");
  out += fmt::format("vllm:prefix_cache_queries_total{{model_name=\"{}\"}} {}\n", model,
                     counters.prefix_queries.load());
  metric("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in tokens.");
  out += fmt::format("vllm:prefix_cache_hits_total{{model_name=\"{}\"}} {}\n", model,
                     counters.prefix_hits.load());
  metric("retort_sim_requests_total", "counter", "Requests received, by route.");
  for (size_t i = 0; i < static_cast<size_t>(Route::kCount); ++i) {
    out += fmt::format("retort_sim_requests_total{{route=\"{}\"}} {}\n",
                       route_name(static_cast<Route>(i)), counters.by_route[i].load());
  }
  metric("retort_sim_responses_total", "counter", "Responses sent, by HTTP status.");
  for (size_t i = 0; i < counters.by_status.size(); ++i) {
    uint64_t n = counters.by_status[i].load();
    if (n) out += fmt::format("retort_sim_responses_total{{status=\"{}\"}} {}\n", i, n);
  }
  metric("retort_sim_faults_total", "counter", "Injected faults, by kind.");
  for (size_t i = 1; i < static_cast<size_t>(Fault::kCount); ++i) {
    out += fmt::format("retort_sim_faults_total{{kind=\"{}\"}} {}\n",
                       fault_name(static_cast<Fault>(i)), counters.faults[i].load());
  }
  metric("retort_sim_duplicate_successes_total", "counter",
         "Requests whose body had already been answered successfully.");
  out +=
      fmt::format("retort_sim_duplicate_successes_total {}\n", counters.duplicate_successes.load());
  return out;
}

void Server::Impl::accept_next() {
  auto& ctx = *contexts[next_context];
  next_context = (next_context + 1) % contexts.size();
  acceptor->async_accept(ctx, [this, &ctx](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) return;
      // Out of file descriptors and the like: keep serving the connections we have.
      log::warn("sim: accept failed: {}", ec.message());
    } else {
      auto conn = std::make_shared<Connection>(std::move(socket), *this);
      asio::post(ctx, [conn]() { conn->start(); });
    }
    accept_next();
  });
}

Server::Server(const SimOptions& options) {
  validate(options);
  impl_ = std::make_unique<Impl>(options);
  raise_fd_limit();
  auto& s = *impl_;
  if (!options.api_key.empty()) {
    s.expected_auth = "Bearer " + options.api_key;
    log::add_secret(options.api_key);
  }
  unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                         : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) {
    s.contexts.push_back(std::make_unique<asio::io_context>(1));
    s.guards.push_back(asio::make_work_guard(*s.contexts.back()));
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    throw Error("bad --host address '" + options.host + "'", "retort sim",
                "give an IP address such as 127.0.0.1 or 0.0.0.0");
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  s.acceptor = std::make_unique<tcp::acceptor>(*s.contexts[0]);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw Error(fmt::format("cannot listen on {}:{}: {}", options.host, options.port, ec.message()),
                "retort sim", "pick another --port, or --port 0 for a free one");
  }
  s.port = s.acceptor->local_endpoint().port();
  if (!options.port_file.empty())
    write_file_atomic(options.port_file, std::to_string(s.port) + "\n");
}

Server::~Server() = default;

int Server::port() const {
  return impl_->port;
}

void Server::stop() {
  auto& s = *impl_;
  s.stopping = true;
  asio::post(*s.contexts[0], [&s]() {
    beast::error_code ec;
    s.acceptor->close(ec);
  });
  for (auto& c : s.contexts) c->stop();
}

void Server::run(bool handle_signals) {
  auto& s = *impl_;
  std::optional<asio::signal_set> signals;
  if (handle_signals) {
    signals.emplace(*s.contexts[0], SIGINT, SIGTERM);
    signals->async_wait([this](beast::error_code ec, int sig) {
      if (ec) return;
      log::info("sim: signal {} received, shutting down", sig);
      stop();
    });
  }
  log::info("sim: listening on http://{}:{}/v1 ({} threads, models: {})", s.options.host, s.port,
            s.contexts.size(), join(s.options.models, ", "));
  asio::post(*s.contexts[0], [&s]() { s.accept_next(); });
  std::vector<std::thread> threads;
  for (size_t i = 1; i < s.contexts.size(); ++i) {
    threads.emplace_back([&s, i]() { s.contexts[i]->run(); });
  }
  s.contexts[0]->run();
  for (auto& c : s.contexts) c->stop();
  for (auto& t : threads) t.join();
}

}  // namespace retort::sim
