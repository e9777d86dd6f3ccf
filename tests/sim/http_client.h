// A tiny blocking HTTP/1.1 client over POSIX sockets, for the simulator's tests: it must
// see exactly what went over the wire (resets, stalls, truncated bodies, chunk framing),
// which a full client library would hide or retry.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <string>

#include "util/json.h"
#include "util/strings.h"

namespace retort::sim::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // de-chunked
  bool complete = false;                       // the whole message arrived
  std::string error;                           // "timeout", "closed", "reset", ...
  Json json() const { return Json::parse(body); }
};

class HttpConnection {
 public:
  explicit HttpConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      error_ = std::string("connect: ") + std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
    }
    int one = 1;
    if (fd_ >= 0) setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~HttpConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }

  bool send_raw(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  bool send_request(const std::string& method, const std::string& path, const std::string& body,
                    const std::map<std::string, std::string>& headers = {}) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    if (!body.empty() || method == "POST") {
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    }
    req += "\r\n" + body;
    return send_raw(req);
  }

  HttpResponse read_response(double timeout_s = 10) {
    HttpResponse r;
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(timeout_s));
    std::string line;
    if (!read_line(line, r)) return r;
    if (line.size() < 12 || !starts_with(line, "HTTP/1.1 ")) {
      r.error = "bad status line: " + line;
      return r;
    }
    r.status = std::stoi(line.substr(9, 3));
    while (true) {
      if (!read_line(line, r)) return r;
      if (line.empty()) break;
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      r.headers[to_lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
    }
    if (r.headers["transfer-encoding"] == "chunked") {
      while (true) {
        if (!read_line(line, r)) return r;
        size_t size = std::stoul(line, nullptr, 16);
        if (size == 0) {
          if (!read_line(line, r)) return r;
          break;
        }
        std::string data;
        if (!read_exact(size + 2, data, r)) return r;
        r.body += data.substr(0, size);
      }
    } else {
      size_t len =
          std::stoul(r.headers.count("content-length") ? r.headers["content-length"] : "0");
      if (!read_exact(len, r.body, r)) return r;
    }
    r.complete = true;
    return r;
  }

  HttpResponse request(const std::string& method, const std::string& path,
                       const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {},
                       double timeout_s = 10) {
    if (!send_request(method, path, body, headers)) {
      HttpResponse r;
      r.error = "send failed";
      return r;
    }
    return read_response(timeout_s);
  }

  // True when the server closed the connection (EOF or reset) within timeout_s.
  bool closed_by_peer(double timeout_s = 5) {
    HttpResponse r;
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(timeout_s));
    while (fill(r)) buf_.clear();
    return r.error == "closed" || r.error == "reset";
  }

 private:
  // Reads more bytes into buf_; false (with r.error set) on timeout, EOF or error.
  bool fill(HttpResponse& r) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline_ - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      r.error = "timeout";
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc == 0) {
      r.error = "timeout";
      return false;
    }
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n == 0) {
      r.error = "closed";
      return false;
    }
    if (n < 0) {
      r.error = errno == ECONNRESET ? "reset" : std::string("recv: ") + std::strerror(errno);
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  bool read_line(std::string& line, HttpResponse& r) {
    while (true) {
      auto pos = buf_.find("\r\n");
      if (pos != std::string::npos) {
        line = buf_.substr(0, pos);
        buf_.erase(0, pos + 2);
        return true;
      }
      if (!fill(r)) return false;
    }
  }

  bool read_exact(size_t n, std::string& out, HttpResponse& r) {
    while (buf_.size() < n) {
      if (!fill(r)) {
        out += buf_;
        buf_.clear();
        return false;
      }
    }
    out += buf_.substr(0, n);
    buf_.erase(0, n);
    return true;
  }

  int fd_ = -1;
  std::string error_;
  std::string buf_;
  std::chrono::steady_clock::time_point deadline_;
};

// Splits an SSE body into the JSON payloads of its "data:" lines ("[DONE]" kept as text).
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  for (const auto& line : split(body, '\n')) {
    if (starts_with(line, "data: ")) out.push_back(line.substr(6));
  }
  return out;
}

}  // namespace retort::sim::testing
