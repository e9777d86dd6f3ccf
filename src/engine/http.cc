#include "engine/http.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "engine/transfer.h"
#include "util/strings.h"

namespace retort {
namespace detail {

Transfer::~Transfer() {
  if (headers) curl_slist_free_all(headers);
}

void ensure_curl_global() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->call.stall_timeout_s > 0) t->last_byte = std::chrono::steady_clock::now();
  // Most replies are a few hundred bytes to a few KB: one allocation instead of doubling up
  // (and the engine reuses the buffer for its next reply).
  if (t->reply.body.capacity() < 2048) t->reply.body.reserve(std::max<size_t>(2048, size * n));
  size_t before = t->reply.body.size();
  t->reply.body.append(data, size * n);
  if (!t->got_first_token && t->call.stream) {
    // The first token: the first byte, or the first appearance of the call's marker (which
    // may straddle two chunks).
    const std::string& marker = t->call.ttft_marker;
    size_t from = before >= marker.size() ? before - marker.size() + 1 : 0;
    if (marker.empty() || t->reply.body.find(marker, from) != std::string::npos) {
      t->reply.ttft_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t->start).count();
      t->got_first_token = true;
    }
  }
  return size * n;
}

bool header_is(const char* line, size_t len, const char* name, size_t name_len) {
  return len > name_len && line[name_len] == ':' && strncasecmp(line, name, name_len) == 0;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->call.stall_timeout_s > 0) t->last_byte = std::chrono::steady_clock::now();
  if (len >= 5 && std::string_view(data, 5) == "HTTP/") {
    t->reply.retry_after_s = -1;  // a new response (e.g. after 100 Continue)
    t->retry_after_ms = false;
    t->reply.content_type.clear();
  } else if (header_is(data, len, "retry-after", 11)) {
    if (!t->retry_after_ms)
      t->reply.retry_after_s = parse_retry_after(trim(std::string_view(data + 12, len - 12)));
  } else if (header_is(data, len, "retry-after-ms", 14) ||
             header_is(data, len, "x-ms-retry-after-ms", 19)) {
    // OpenAI's and Azure's millisecond form (the openai SDK prefers it to Retry-After).
    size_t name = data[0] == 'x' || data[0] == 'X' ? 19 : 14;
    std::string v = trim(std::string_view(data + name + 1, len - name - 1));
    char* end = nullptr;
    double ms = std::strtod(v.c_str(), &end);
    if (!v.empty() && end && *end == '\0' && std::isfinite(ms)) {
      t->reply.retry_after_s = ms < 0 ? 0 : ms / 1000;
      t->retry_after_ms = true;
    }
  } else if (header_is(data, len, "content-type", 12)) {
    t->reply.content_type = trim(std::string_view(data + 13, len - 13));
  }
  return len;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  auto quiet = std::chrono::steady_clock::now() - t->last_byte;
  // libcurl calls back about once a second: a little slack keeps a 1 s stall from taking 2.
  if (std::chrono::duration<double>(quiet).count() + 0.05 < t->call.stall_timeout_s) return 0;
  t->stall_fired = true;
  return 1;
}

std::string host_of(const std::string& url) {
  std::string o = origin_of(url);
  auto p = o.find("://");
  std::string h = p == std::string::npos ? o : o.substr(p + 3);
  if (!h.empty() && h[0] == '[') return h.substr(0, h.find(']') + 1);
  return h.substr(0, h.rfind(':') == std::string::npos ? h.size() : h.rfind(':'));
}

// "2", "1.5": seconds as a user wrote them.
std::string seconds_text(double s) {
  if (s == std::floor(s)) return std::to_string(static_cast<long long>(s));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

curl_slist* header_list(const HttpCall& c) {
  curl_slist* list = nullptr;
  for (const auto& h : c.headers) list = curl_slist_append(list, h.c_str());
  if (c.method == "POST") {
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "Expect:");
  }
  if (c.stream) list = curl_slist_append(list, "Accept: text/event-stream");
  return list;
}

std::string header_key(const HttpCall& c) {
  std::string key = c.method;
  key += c.stream ? "\nS" : "\n-";
  for (const auto& h : c.headers) {
    key += '\n';
    key += h;
  }
  return key;
}

// The URL of a call, parsed once per distinct URL (per thread, for the process's life) and
// handed to libcurl as a CURLU: given only the text (CURLOPT_URL), libcurl 7.88 parses it and
// prints it back out for every transfer, which was ~5% of a whole `retort run`'s CPU. null
// when the URL API rejects the text: the transfer then gets the text, and libcurl's own error.
CURLU* parsed_url(const std::string& url) {
  thread_local std::unordered_map<std::string, CURLU*> parsed;
  auto it = parsed.find(url);
  if (it != parsed.end()) return it->second;
  CURLU* h = curl_url();
  // The flags libcurl itself parses a CURLOPT_URL with (lib/url.c, parseurlandfillconn).
  if (h && curl_url_set(h, CURLUPART_URL, url.c_str(),
                        CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    curl_url_cleanup(h);
    h = nullptr;
  }
  return parsed.emplace(url, h).first->second;
}

bool proxy_env_absent() {
  for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                           "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
    const char* v = std::getenv(name);
    if (v && *v) return false;
  }
  return true;
}

void setup_easy(CURL* easy, Transfer& t, curl_slist* shared_headers, bool no_proxy_env) {
  const HttpCall& c = t.call;
  CURLU* url = parsed_url(c.url);
  curl_easy_setopt(easy, CURLOPT_CURLU, url);
  curl_easy_setopt(easy, CURLOPT_URL, url ? nullptr : c.url.c_str());
  // libcurl 7.88 reads up to five proxy variables from the environment for every transfer
  // (lib/url.c: no_proxy, NO_PROXY, then detect_proxy's <scheme>_proxy, all_proxy,
  // ALL_PROXY). When none is set, an empty CURLOPT_PROXY ("no proxy", curl_easy_setopt(3))
  // and CURLOPT_NOPROXY say the same once; otherwise libcurl reads them as it always does.
  curl_easy_setopt(easy, CURLOPT_PROXY, no_proxy_env ? "" : nullptr);
  curl_easy_setopt(easy, CURLOPT_NOPROXY, no_proxy_env ? "" : nullptr);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(std::ceil(c.timeout_s * 1000)));
  // The stall timeout (set on every call, since easy handles are reused). libcurl's own
  // low-speed check averages over up to 5 s, so it would let a stall run several seconds
  // past its limit; here it only makes libcurl visit the transfer every second (and is a
  // backstop), and on_progress aborts once no byte came for stall_timeout_s.
  bool stall = c.stall_timeout_s > 0;
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, stall ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                   stall ? std::lround(std::ceil(c.stall_timeout_s)) * 2 + 5 : 0L);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, stall ? 0L : 1L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, stall ? on_progress : nullptr);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, stall ? &t : nullptr);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::ceil(std::min(c.timeout_s, 30.0) * 1000)));
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  // HTTP/2 is only negotiated over TLS; waiting to multiplex on a plain-http connection
  // would hold every transfer but the first until the first reply came back.
  curl_easy_setopt(easy, CURLOPT_PIPEWAIT, c.url.rfind("https://", 0) == 0 ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, &t);
  if (t.headers) {
    curl_slist_free_all(t.headers);
    t.headers = nullptr;
  }
  if (!shared_headers) t.headers = header_list(c);
  if (c.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, c.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(c.body.size()));
  } else {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, nullptr);
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, shared_headers ? shared_headers : t.headers);
  std::string body = std::move(t.reply.body);  // keeps its capacity for this reply
  body.clear();
  t.reply = HttpReply{};
  t.reply.body = std::move(body);
  t.got_first_token = false;
  t.retry_after_ms = false;
  t.stall_fired = false;
  t.start = std::chrono::steady_clock::now();
  t.last_byte = t.start;
}

void finish_transfer(CURL* easy, Transfer& t, CURLcode code) {
  HttpReply& r = t.reply;
  r.latency_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t.start).count();
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  r.transport_error = code;
  if (code == CURLE_OK) {
    r.status = static_cast<int>(status);
    return;
  }
  r.status = 0;
  const std::string& url = t.call.url;
  std::string origin = origin_of(url);
  const char* detail = curl_easy_strerror(code);
  auto stalled = [&] {
    r.stalled = true;
    r.transport_retryable = true;
    r.transport_message = "no data from " + url + " for " + seconds_text(t.call.stall_timeout_s) +
                          " s (stalled; the stall timeout)";
  };
  if (code == CURLE_ABORTED_BY_CALLBACK && t.stall_fired) return stalled();
  switch (code) {
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED) {
        r.transport_message = "connection refused by " + origin + " (is the server running there?)";
      } else {
        r.transport_message = "cannot connect to " + origin + " (" + detail + ")";
      }
      r.transport_retryable = true;
      break;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      r.transport_message = "cannot resolve host '" + host_of(url) + "' (DNS lookup failed)";
      break;
    case CURLE_COULDNT_RESOLVE_PROXY:
      r.transport_message = "cannot resolve the proxy for " + origin;
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      r.transport_message = "TLS handshake with " + origin + " failed (" + detail +
                            "); if the server speaks plain HTTP, use http:// instead of https://";
      break;
    case CURLE_OPERATION_TIMEDOUT: {
      // libcurl's low-speed backstop ends as a timeout too: a stall when nothing arrived
      // for the stall timeout before the total timeout ran out.
      double quiet =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t.last_byte).count();
      double stall = t.call.stall_timeout_s;
      if (stall > 0 && quiet >= stall && r.latency_s < t.call.timeout_s - 0.5) return stalled();
      r.timed_out = true;
      r.transport_message = "no complete reply from " + url + " within " +
                            seconds_text(t.call.timeout_s) + " s (timeout)";
      r.transport_retryable = true;
      break;
    }
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      r.transport_message = "invalid URL '" + url + "' (" + detail + ")";
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      r.transport_message = "interrupted";
      break;
    default:
      r.transport_message =
          "connection to " + origin + " failed before a complete reply (" + detail + ")";
      r.transport_retryable = true;
      break;
  }
}

}  // namespace detail

HttpReply http_call(const HttpCall& call) {
  detail::ensure_curl_global();
  CURL* easy = curl_easy_init();
  detail::Transfer t;
  t.call = call;
  detail::setup_easy(easy, t);
  CURLcode code = curl_easy_perform(easy);
  detail::finish_transfer(easy, t, code);
  curl_easy_cleanup(easy);
  return std::move(t.reply);
}

double parse_retry_after(const std::string& value) {
  std::string v = trim(value);
  if (v.empty()) return -1;
  char* end = nullptr;
  double s = std::strtod(v.c_str(), &end);
  if (end && *end == '\0' && std::isfinite(s)) return s < 0 ? 0 : s;
  time_t when = curl_getdate(v.c_str(), nullptr);
  if (when < 0) return -1;
  double delta = std::difftime(when, std::time(nullptr));
  return delta < 0 ? 0 : delta;
}

bool retryable_status(int status) {
  return status == 408 || status == 409 || status == 425 || status == 429 ||
         (status >= 500 && status <= 599);
}

std::string origin_of(const std::string& url) {
  auto scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  auto slash = url.find('/', start);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

}  // namespace retort
