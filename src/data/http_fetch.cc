#include "data/http_fetch.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "util/error.h"
#include "util/strings.h"

namespace retort {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlUrl {
  CURLU* h = curl_url();
  ~CurlUrl() { curl_url_cleanup(h); }
  std::string get(CURLUPart part, unsigned flags = 0) const {
    char* s = nullptr;
    if (curl_url_get(h, part, &s, flags) != CURLUE_OK || !s) return "";
    std::string out(s);
    curl_free(s);
    return out;
  }
};

bool is_absolute_location(const std::string& loc) {
  return loc.find("://") != std::string::npos || starts_with(loc, "//");
}

std::string resolve_location(const std::string& base, const std::string& loc) {
  CurlUrl u;
  if (curl_url_set(u.h, CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(u.h, CURLUPART_URL, loc.c_str(), 0) != CURLUE_OK) {
    throw Error("bad redirect location '" + loc + "'", base);
  }
  return u.get(CURLUPART_URL);
}

struct Transfer {
  const HttpRequest* req = nullptr;
  CURL* curl = nullptr;
  HttpResponse* resp = nullptr;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (starts_with(line, "HTTP/")) {
    t->resp->headers.clear();  // a new response (e.g. after 100 Continue)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    t->resp->headers.emplace_back(to_lower(trim(line.substr(0, colon))),
                                  trim(line.substr(colon + 1)));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (t->req->sink && code >= 200 && code < 300) {
    t->req->sink(data, size * n);
  } else {
    t->resp->body.append(data, size * n);
  }
  return size * n;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (t->req->progress && code >= 200 && code < 300 && dlnow > 0) {
    t->req->progress(static_cast<uint64_t>(dlnow), static_cast<uint64_t>(dltotal));
  }
  return 0;
}

// One request/response, no redirects.
HttpResponse perform_once(const HttpRequest& req, const std::string& url, bool send_auth) {
  global_init();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw Error("cannot initialise libcurl", url);
  HttpResponse resp;
  resp.url = url;
  Transfer t{&req, curl.get(), &resp};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "retort/0.1");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, req.connect_timeout_s);
  if (req.timeout_s > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT, req.timeout_s);
  // Abort transfers that stall (no bytes for 60 s) rather than hang.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  curl_slist* headers = nullptr;
  bool custom_encoding = false;
  for (const auto& h : req.headers) {
    if (starts_with(to_lower(h), "accept-encoding:")) custom_encoding = true;
    headers = curl_slist_append(headers, h.c_str());
  }
  std::string auth;
  if (send_auth && !req.bearer_token.empty()) {
    auth = "Authorization: Bearer " + req.bearer_token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                           curl_slist_free_all);
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  // "" = every encoding curl can decode (gzip, deflate, ...), decoded transparently.
  if (!custom_encoding) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (req.progress) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string msg = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    throw Error("HTTP request failed: " + msg, url);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

HttpResponse http_fetch(const HttpRequest& req) {
  std::string origin = url_origin(req.url);
  std::string url = req.url;
  for (int hops = 0;; ++hops) {
    bool same_host = url_origin(url) == origin;
    HttpResponse resp = perform_once(req, url, same_host);
    bool redirect = resp.status == 301 || resp.status == 302 || resp.status == 303 ||
                    resp.status == 307 || resp.status == 308;
    std::string loc = resp.header("location");
    if (!redirect || loc.empty() || req.redirects == HttpRequest::Redirects::kNone) return resp;
    if (req.redirects == HttpRequest::Redirects::kRelative && is_absolute_location(loc)) {
      return resp;
    }
    if (hops >= 10) throw Error("too many redirects", req.url);
    url = resolve_location(url, loc);
  }
}

std::string url_encode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string url_origin(const std::string& url) {
  CurlUrl u;
  if (curl_url_set(u.h, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return url;
  return to_lower(u.get(CURLUPART_SCHEME) + "://" + u.get(CURLUPART_HOST) + ":" +
                  u.get(CURLUPART_PORT, CURLU_DEFAULT_PORT));
}

}  // namespace retort
