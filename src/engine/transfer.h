// Internal to the engine: one libcurl easy transfer carrying an HttpCall and filling an
// HttpReply. Shared by the blocking http_call() and the concurrent Engine.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/http.h"

namespace retort::detail {

struct Transfer {
  HttpCall call;
  HttpReply reply;
  curl_slist* headers = nullptr;  // owned; unused when setup_easy got a shared list
  std::chrono::steady_clock::time_point start;
  std::chrono::steady_clock::time_point last_byte;  // kept only with a stall timeout
  bool got_first_token = false;  // (streams) the first token was seen: ttft is set
  bool retry_after_ms = false;   // the reply had retry-after-ms, which wins over Retry-After
  bool stall_fired = false;      // the progress callback aborted it: no byte for too long
  size_t unit = 0;
  int attempt = 0;     // attempts before this one (0 = first)
  int throttled = 0;   // of those, ones answered by a rate-limit reply (429/529)
  uint16_t shard = 0;  // the engine's multi handle carrying it

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer();
};

// The request headers libcurl sends for a call: its own plus Content-Type/Expect for POST
// and Accept for SSE. The caller owns the list (curl_slist_free_all).
curl_slist* header_list(const HttpCall& c);
// A key that is equal for calls whose header_list() is equal.
std::string header_key(const HttpCall& c);
// Configures easy (fresh, or last configured by setup_easy: every option it sets is set
// again) to perform t.call into t.reply. With shared_headers the call uses that list (which
// must outlive the transfer); else t owns a list of its own.
// no_proxy_env: the caller checked that the environment names no proxy (proxy_env_absent), so
// the transfer is told "no proxy" instead of libcurl reading the proxy variables itself.
void setup_easy(CURL* easy, Transfer& t, curl_slist* shared_headers = nullptr,
                bool no_proxy_env = false);
// Whether none of the variables libcurl takes a proxy from is set (http_proxy, https_proxy,
// HTTPS_PROXY, all_proxy, ALL_PROXY, no_proxy, NO_PROXY; HTTP_PROXY too, to be safe).
bool proxy_env_absent();
// Fills t.reply's status / transport error / latency after the transfer ended with code.
void finish_transfer(CURL* easy, Transfer& t, CURLcode code);
// Makes sure curl_global_init ran once.
void ensure_curl_global();

}  // namespace retort::detail
