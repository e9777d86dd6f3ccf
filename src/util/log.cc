#include "util/log.h"

#include "util/log_redact.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

namespace retort::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_mu;
std::vector<std::string> g_secrets;  // guarded by g_mu

const char* prefix(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug: ";
    case Level::kInfo:
      return "";
    case Level::kWarn:
      return "warning: ";
    case Level::kError:
      return "error: ";
    default:
      return "";
  }
}

// Credentials written into a URL (scheme://user:password@host/...) become
// scheme://***@host/...: whatever the URL is, from a flag, an env var or a server reply.
void redact_url_userinfo(std::string& out) {
  for (size_t pos = out.find("://"); pos != std::string::npos; pos = out.find("://", pos + 3)) {
    size_t start = pos + 3;
    size_t end = start;
    while (end < out.size() && out[end] != '@' && out[end] != '/' && out[end] != '?' &&
           out[end] != '#' && out[end] != ' ' && out[end] != '"' && out[end] != '\'' &&
           out[end] != '\n' && out[end] != '\t' && out[end] != '<' && out[end] != '>')
      ++end;
    // Only user:password is a credential; "ssh://git@host" in a model's answer stays.
    if (end < out.size() && out[end] == '@' && out.find(':', start) < end)
      out.replace(start, end - start, "***");
  }
}

void redact_locked_in_place(std::string& out) {
  redact_url_userinfo(out);
  for (const auto& s : g_secrets) {
    for (size_t pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos + 3)) {
      out.replace(pos, s.size(), "***");
    }
  }
}

std::string redact_locked(std::string_view text) {
  std::string out(text);
  redact_locked_in_place(out);
  return out;
}
}  // namespace

void set_level(Level l) {
  g_level.store(static_cast<int>(l));
}
Level level() {
  return static_cast<Level>(g_level.load());
}

void add_secret(std::string_view secret) {
  if (secret.size() < 4) return;
  std::lock_guard<std::mutex> lock(g_mu);
  for (const auto& s : g_secrets) {
    if (s == secret) return;
  }
  g_secrets.emplace_back(secret);
}

std::string redact(std::string_view text) {
  std::lock_guard<std::mutex> lock(g_mu);
  return redact_locked(text);
}

void redact_in_place(std::string& text) {
  std::lock_guard<std::mutex> lock(g_mu);
  redact_locked_in_place(text);
}

bool may_need_redaction(std::string_view text) {
  if (text.find("://") != std::string_view::npos) return true;
  std::lock_guard<std::mutex> lock(g_mu);
  for (const auto& s : g_secrets)
    if (text.find(s) != std::string_view::npos) return true;
  return false;
}

void write(Level l, std::string_view message) {
  std::lock_guard<std::mutex> lock(g_mu);
  std::string line = std::string(prefix(l)) + redact_locked(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace retort::log
