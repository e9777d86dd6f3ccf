// Internal to the engine: one libcurl easy transfer carrying an HttpCall and filling an
// HttpReply. Shared by the blocking http_call() and the concurrent Engine.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>

#include "engine/http.h"

namespace retort::detail {

struct Transfer {
  HttpCall call;
  HttpReply reply;
  curl_slist* headers = nullptr;
  std::chrono::steady_clock::time_point start;
  bool got_first_byte = false;
  size_t unit = 0;
  int attempt = 0;

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer();
};

// Configures easy (freshly created or curl_easy_reset) to perform t.call into t.reply.
void setup_easy(CURL* easy, Transfer& t);
// Fills t.reply's status / transport error / latency after the transfer ended with code.
void finish_transfer(CURL* easy, Transfer& t, CURLcode code);
// Makes sure curl_global_init ran once.
void ensure_curl_global();

}  // namespace retort::detail
