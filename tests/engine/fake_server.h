// A tiny loopback HTTP/1.1 server for engine and provider tests: one thread per connection,
// keep-alive, Content-Length bodies, and a handler deciding each reply (including faults:
// a reset connection, a raw malformed reply, a delay). Independent of `retort sim`.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "util/strings.h"

namespace retort::testing {

struct FakeRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct FakeReply {
  FakeReply() = default;
  FakeReply(int status_, std::string body_, std::string content_type_ = "application/json",
            std::vector<std::string> headers_ = {})
      : status(status_),
        body(std::move(body_)),
        content_type(std::move(content_type_)),
        headers(std::move(headers_)) {}
  FakeReply& after_ms(int ms) {
    delay_ms = ms;
    return *this;
  }

  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::string> headers;  // extra "Name: value"
  bool reset = false;                // close the connection with RST instead of replying
  std::string raw;                   // sent as-is instead of a formatted reply when non-empty
  int delay_ms = 0;
  std::string raw_later;  // sent raw_later_ms after raw (a stream arriving in two parts)
  int raw_later_ms = 0;
  std::vector<std::string> drip;  // sent one by one, drip_ms apart, after raw (then close)
  int drip_ms = 0;
};

class FakeServer {
 public:
  using Handler = std::function<FakeReply(const FakeRequest&)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 1024) != 0)
      throw std::runtime_error("FakeServer: bind/listen failed");
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~FakeServer() {
    stop_ = true;
    acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : conns_) t.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  std::string base_url(const std::string& suffix = "/v1") const {
    return "http://127.0.0.1:" + std::to_string(port_) + suffix;
  }
  int requests() const { return requests_.load(); }
  int max_concurrent() const { return max_active_.load(); }
  std::vector<FakeRequest> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      conn_fds_.push_back(fd);
      conns_.emplace_back([this, fd] { serve(fd); });
    }
  }

  static bool read_more(int fd, std::string& buf) {
    char tmp[65536];
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }

  void serve(int fd) {
    std::string buf;
    while (!stop_) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!read_more(fd, buf)) return finish(fd, false);
        if (!std::isalpha(static_cast<unsigned char>(buf[0]))) {
          // Not HTTP (e.g. a TLS ClientHello): answer like a plain HTTP server would.
          const char kBad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
          send(fd, kBad, sizeof kBad - 1, MSG_NOSIGNAL);
          return finish(fd, false);
        }
      }
      FakeRequest req;
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      auto lines = split(head, '\n');
      auto first = split(trim(lines[0]), ' ');
      req.method = first.size() > 0 ? first[0] : "";
      req.path = first.size() > 1 ? first[1] : "";
      for (size_t i = 1; i < lines.size(); ++i) {
        auto c = lines[i].find(':');
        if (c == std::string::npos) continue;
        req.headers[to_lower(trim(lines[i].substr(0, c)))] = trim(lines[i].substr(c + 1));
      }
      size_t len =
          req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
      while (buf.size() < len) {
        if (!read_more(fd, buf)) return finish(fd, false);
      }
      req.body = buf.substr(0, len);
      buf.erase(0, len);
      ++requests_;
      int now = ++active_;
      int prev = max_active_.load();
      while (now > prev && !max_active_.compare_exchange_weak(prev, now)) {
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(req);
      }
      FakeReply rep = handler_(req);
      if (rep.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(rep.delay_ms));
      --active_;
      if (rep.reset) return finish(fd, true);
      std::string out = rep.raw;
      if (out.empty()) {
        out = "HTTP/1.1 " + std::to_string(rep.status) + " X\r\nContent-Type: " + rep.content_type +
              "\r\nContent-Length: " + std::to_string(rep.body.size()) + "\r\n";
        for (const auto& h : rep.headers) out += h + "\r\n";
        out += "\r\n" + rep.body;
      }
      if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) return finish(fd, false);
      if (!rep.raw_later.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(rep.raw_later_ms));
        send(fd, rep.raw_later.data(), rep.raw_later.size(), MSG_NOSIGNAL);
      }
      for (const auto& part : rep.drip) {
        std::this_thread::sleep_for(std::chrono::milliseconds(rep.drip_ms));
        if (send(fd, part.data(), part.size(), MSG_NOSIGNAL) < 0) break;
      }
      if (!rep.raw.empty()) return finish(fd, false);
    }
    finish(fd, false);
  }

  void finish(int fd, bool rst) {
    if (rst) {
      linger l{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    std::lock_guard<std::mutex> lock(mu_);
    shutdown(fd, SHUT_RDWR);
    close(fd);
    for (auto& c : conn_fds_)
      if (c == fd) c = -1;
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0}, active_{0}, max_active_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> conns_;
  std::vector<FakeRequest> seen_;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
inline int refused_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace retort::testing
