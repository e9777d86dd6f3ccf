// Plain blocking HTTP for the Hub client (libcurl easy): one request, redirects followed by
// us rather than by curl so that the Authorization header is dropped when a redirect leaves
// the original host (the Hub sends files to a CDN), and so that HEAD can follow only
// relative redirects (renamed repos) and keep the headers of an absolute one. gzip/deflate
// response bodies are decoded. Transport failures throw retort::Error; HTTP statuses are
// returned, not thrown.
//
// Why this is not engine/http.h's http_call: that one is the API exchange (a JSON POST whose
// reply fits in memory, retried by the engine, timed for TTFT) and shares its state with the
// engine's curl-multi transfers; this one downloads files of any size to a sink, follows
// redirects itself with per-host auth rules, and answers HEAD. Their only common part is
// libcurl's easy-handle setup, and the data module must not depend on the engine (DESIGN.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace retort {

struct HttpResponse {
  long status = 0;
  std::string url;                                           // after redirects
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;                                          // empty when a sink was given

  // First value of a header (name lower-case), or "".
  std::string header(const std::string& name) const;
};

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string bearer_token;          // sent as Authorization, only to the original host
  // Redirects: none, only relative Location values, or all (at most 10).
  enum class Redirects { kNone, kRelative, kAll } redirects = Redirects::kAll;
  long timeout_s = 0;  // whole transfer; 0 = none (large files)
  long connect_timeout_s = 20;
  // When set, the body of a 2xx final response goes here instead of into `body`.
  std::function<void(const char* data, size_t n)> sink;
  // Called with (bytes so far, total or 0) while a body arrives.
  std::function<void(uint64_t now, uint64_t total)> progress;
};

HttpResponse http_fetch(const HttpRequest& request);

// Percent-encodes everything but unreserved characters (and '/' when keep_slash).
std::string url_encode(const std::string& s, bool keep_slash = false);

// "scheme://host:port" of a URL (lower-cased), for same-host checks.
std::string url_origin(const std::string& url);

}  // namespace retort
