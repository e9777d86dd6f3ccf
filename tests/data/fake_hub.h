// A tiny Hugging Face Hub on loopback for tests: the same URL layout as the real Hub
// (resolve/, api/datasets/{repo}/revision|tree|parquet), LFS-style files answered with a
// 302 to a separate CDN host ("localhost" instead of "127.0.0.1", path /cdn/{sha256}),
// small text files served gzip-encoded without Content-Length, ETag / X-Linked-Etag /
// X-Repo-Commit headers, 401 for gated repos without the right token, renamed repos
// (relative 307), a tree listing paged by Link: rel="next". Every request is recorded so
// tests can count network traffic and check headers. Header-only (tests/data/*_test.cc
// are the only files compiled into data_tests).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/hash.h"
#include "util/json.h"
#include "util/strings.h"

namespace retort::testing {

class FakeHub {
 public:
  struct Commit {
    std::map<std::string, std::string> files;  // path -> content
    Json card = Json();                        // cardData (null = none)
  };
  struct Repo {
    std::map<std::string, Commit> commits;    // sha -> content
    std::map<std::string, std::string> refs;  // branch/tag -> sha
    bool gated = false;                       // 401 unless the token is good
    Json parquet_api = Json();                // /api/datasets/{repo}/parquet reply
    bool siblings_in_info = true;             // else clients must list the tree
  };
  struct Recorded {
    std::string method;
    std::string target;                          // path + query, as sent
    std::map<std::string, std::string> headers;  // lower-case names
  };

  FakeHub() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd_, 64) != 0) {
      throw std::runtime_error("fake hub: cannot listen on loopback");
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeHub() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }

  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Adds a commit to a repo and points `branch` at it. Returns the sha.
  std::string add_commit(const std::string& repo, const std::map<std::string, std::string>& files,
                         const Json& card = Json(), const std::string& branch = "main") {
    std::lock_guard<std::mutex> lock(mu_);
    Repo& r = repos_[repo];
    std::string sha =
        sha256_hex(repo + "#" + std::to_string(r.commits.size()) + branch).substr(0, 40);
    r.commits[sha] = Commit{files, card};
    if (!branch.empty()) r.refs[branch] = sha;
    return sha;
  }
  // A model repo (served at /{repo}/resolve/{rev}/{path}, apart from the datasets).
  std::string add_model_commit(const std::string& repo,
                               const std::map<std::string, std::string>& files,
                               const std::string& branch = "main") {
    return add_commit(kModelPrefix + repo, files, Json(), branch);
  }
  void set_ref(const std::string& repo, const std::string& ref, const std::string& sha) {
    std::lock_guard<std::mutex> lock(mu_);
    repos_[repo].refs[ref] = sha;
  }
  void set_gated(const std::string& repo, const std::string& good_token) {
    std::lock_guard<std::mutex> lock(mu_);
    repos_[repo].gated = true;
    good_token_ = good_token;
  }
  void set_parquet_api(const std::string& repo, const Json& reply) {
    std::lock_guard<std::mutex> lock(mu_);
    repos_[repo].parquet_api = reply;
  }
  void set_siblings_in_info(const std::string& repo, bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    repos_[repo].siblings_in_info = on;
  }
  void rename(const std::string& old_name, const std::string& new_name) {
    std::lock_guard<std::mutex> lock(mu_);
    renamed_[old_name] = new_name;
  }

  std::vector<Recorded> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  size_t request_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_.size();
  }
  // Requests whose target starts with prefix.
  size_t count(const std::string& prefix) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& r : log_) n += starts_with(r.target, prefix) ? 1 : 0;
    return n;
  }
  void clear_log() {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
  }

  static bool is_lfs(const std::string& path) {
    return ends_with(path, ".parquet") || ends_with(path, ".gz") || ends_with(path, ".zst");
  }
  static std::string gzip(const std::string& data) {
    z_stream zs{};
    deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(compressBound(static_cast<uLong>(data.size())) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
  }

 private:
  static constexpr const char* kModelPrefix = "model:";
  struct Reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool content_length = true;
  };

  static std::string url_decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }

  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        if (stop_) return;
        continue;
      }
      handle(c);
      ::close(c);
    }
  }

  void handle(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::vector<std::string> lines = split(req.substr(0, req.find("\r\n\r\n")), '\n');
    std::vector<std::string> first = split(trim(lines[0]), ' ');
    if (first.size() < 2) return;
    Recorded rec;
    rec.method = first[0];
    rec.target = first[1];
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      rec.headers[to_lower(trim(lines[i].substr(0, colon)))] = trim(lines[i].substr(colon + 1));
    }
    Reply reply;
    {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back(rec);
      reply = route(rec);
    }
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n";
    for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
    if (reply.content_length)
      out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
    out += "Connection: close\r\n\r\n";
    if (rec.method != "HEAD") out += reply.body;
    size_t sent = 0;
    while (sent < out.size()) {
      ssize_t n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  static Reply json_reply(const Json& j) {
    Reply r;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = j.dump();
    return r;
  }
  static Reply error(int status, const std::string& code, const std::string& msg) {
    Reply r;
    r.status = status;
    r.headers.emplace_back("X-Error-Code", code);
    r.headers.emplace_back("X-Error-Message", msg);
    r.body = "{\"error\": \"" + msg + "\"}";
    return r;
  }

  // Splits "{repo}/{kw}/{rest}" where repo is one or two segments.
  static bool split_repo(const std::string& s, const std::string& kw, std::string& repo,
                         std::string& rest) {
    size_t pos = s.find("/" + kw);
    if (pos == std::string::npos) return false;
    repo = s.substr(0, pos);
    rest = s.substr(pos + kw.size() + 1);
    if (!rest.empty() && rest[0] == '/') rest = rest.substr(1);
    return true;
  }

  const Commit* find_commit(Repo& r, const std::string& rev, std::string& sha) {
    auto ref = r.refs.find(rev);
    sha = ref != r.refs.end() ? ref->second : rev;
    auto it = r.commits.find(sha);
    return it == r.commits.end() ? nullptr : &it->second;
  }

  // Checks gate and existence; sets err when the request must fail.
  Repo* open_repo(const Recorded& rec, const std::string& repo, Reply& err) {
    auto it = repos_.find(repo);
    if (it == repos_.end()) {
      err = error(401, "RepoNotFound", "Repository not found");
      return nullptr;
    }
    if (it->second.gated) {
      auto auth = rec.headers.find("authorization");
      if (auth == rec.headers.end() || auth->second != "Bearer " + good_token_) {
        err = error(401, "GatedRepo", "Access to this dataset is restricted");
        return nullptr;
      }
    }
    return &it->second;
  }

  Reply redirect_renamed(const std::string& target, const std::string& old_name,
                         const std::string& new_name) {
    Reply r;
    r.status = 307;
    std::string t = target;
    t.replace(t.find("/" + old_name + "/"), old_name.size() + 1, "/" + new_name);
    r.headers.emplace_back("Location", t);
    return r;
  }

  Reply route(const Recorded& rec) {
    std::string path = rec.target;
    std::string query;
    if (size_t q = path.find('?'); q != std::string::npos) {
      query = path.substr(q + 1);
      path = path.substr(0, q);
    }
    if (starts_with(path, "/cdn/")) {
      std::string sha = path.substr(5);
      auto it = blobs_.find(sha);
      if (it == blobs_.end()) return error(404, "EntryNotFound", "no such blob");
      Reply r;
      r.body = it->second;
      return r;
    }
    std::string repo, rest;
    const bool model_file = !starts_with(path, "/datasets/") && !starts_with(path, "/api/") &&
                            split_repo(path.substr(1), "resolve/", repo, rest);
    if (model_file ||
        (starts_with(path, "/datasets/") && split_repo(path.substr(10), "resolve/", repo, rest))) {
      if (!model_file && renamed_.count(repo))
        return redirect_renamed(rec.target, repo, renamed_[repo]);
      Reply err;
      Repo* r = open_repo(rec, model_file ? kModelPrefix + repo : repo, err);
      if (!r) return err;
      size_t slash = rest.find('/');
      std::string rev = url_decode(rest.substr(0, slash));
      std::string file = url_decode(rest.substr(slash + 1));
      std::string sha;
      const Commit* c = find_commit(*r, rev, sha);
      if (!c) return error(404, "RevisionNotFound", "Invalid rev id: " + rev);
      auto f = c->files.find(file);
      if (f == c->files.end()) return error(404, "EntryNotFound", "Entry not found");
      Reply reply;
      reply.headers.emplace_back("X-Repo-Commit", sha);
      if (is_lfs(file)) {
        std::string digest = sha256_hex(f->second);
        blobs_[digest] = f->second;
        reply.status = 302;
        reply.headers.emplace_back("X-Linked-Etag", "\"" + digest + "\"");
        reply.headers.emplace_back("X-Linked-Size", std::to_string(f->second.size()));
        reply.headers.emplace_back("ETag", "\"redirect-etag\"");
        reply.headers.emplace_back("Location",
                                   "http://localhost:" + std::to_string(port_) + "/cdn/" + digest);
        return reply;
      }
      std::string etag = sha256_hex("blob " + f->second).substr(0, 40);
      auto enc = rec.headers.find("accept-encoding");
      bool gzip_ok = enc != rec.headers.end() && enc->second.find("gzip") != std::string::npos;
      if (gzip_ok) {
        reply.headers.emplace_back("ETag", "W/\"" + etag + "\"");
        reply.headers.emplace_back("Content-Encoding", "gzip");
        reply.body = gzip(f->second);
        reply.content_length = false;  // ends when the connection closes
      } else {
        reply.headers.emplace_back("ETag", "\"" + etag + "\"");
        reply.body = f->second;
      }
      return reply;
    }
    if (starts_with(path, "/api/datasets/")) {
      std::string s = path.substr(14);
      std::string kw;
      for (std::string k : {"revision", "tree"}) {
        size_t pos = s.find("/" + k + "/");
        if (pos != std::string::npos) {
          kw = k;
          repo = s.substr(0, pos);
          rest = s.substr(pos + k.size() + 2);
          break;
        }
      }
      if (kw.empty() && ends_with(s, "/parquet")) {
        kw = "parquet";
        repo = s.substr(0, s.size() - 8);
      }
      if (kw.empty()) return error(404, "", "not found");
      if (renamed_.count(repo)) return redirect_renamed(rec.target, repo, renamed_[repo]);
      Reply err;
      Repo* r = open_repo(rec, repo, err);
      if (!r) return err;
      if (kw == "parquet") {
        if (r->parquet_api.is_null()) return error(404, "", "no parquet conversion");
        return json_reply(r->parquet_api);
      }
      size_t slash = rest.find('/');
      std::string rev = url_decode(rest.substr(0, slash));
      std::string sub = slash == std::string::npos ? "" : url_decode(rest.substr(slash + 1));
      std::string sha;
      const Commit* c = find_commit(*r, rev, sha);
      if (!c) return error(404, "RevisionNotFound", "Invalid rev id: " + rev);
      if (kw == "revision") {
        Json j = Json::object();
        j["id"] = repo;
        j["sha"] = sha;
        if (r->siblings_in_info) {
          j["siblings"] = Json::array();
          for (const auto& [p, content] : c->files) j["siblings"].push_back({{"rfilename", p}});
        }
        if (!c->card.is_null()) j["cardData"] = c->card;
        return json_reply(j);
      }
      // tree: files and their folders, two entries a page.
      std::vector<Json> entries;
      std::map<std::string, bool> dirs;
      for (const auto& [p, content] : c->files) {
        if (!sub.empty() && !starts_with(p, sub + "/")) continue;
        std::vector<std::string> parts = split(p, '/');
        std::string d;
        for (size_t i = 0; i + 1 < parts.size(); ++i) {
          d += (i ? "/" : "") + parts[i];
          if (!dirs[d]) {
            dirs[d] = true;
            entries.push_back({{"type", "directory"}, {"path", d}, {"oid", "0"}, {"size", 0}});
          }
        }
        entries.push_back({{"type", "file"}, {"path", p}, {"oid", "1"}, {"size", content.size()}});
      }
      size_t cursor = 0;
      if (size_t at = query.find("cursor="); at != std::string::npos) {
        cursor = std::stoul(query.substr(at + 7));
      }
      Json page = Json::array();
      for (size_t i = cursor; i < entries.size() && i < cursor + 2; ++i) page.push_back(entries[i]);
      Reply reply = json_reply(page);
      if (cursor + 2 < entries.size()) {
        std::string base = rec.target.substr(0, rec.target.find('?'));
        reply.headers.emplace_back("Link", "<" + endpoint() + base + "?recursive=true&cursor=" +
                                               std::to_string(cursor + 2) + ">; rel=\"next\"");
      }
      return reply;
    }
    return error(404, "", "not found");
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::map<std::string, Repo> repos_;
  std::map<std::string, std::string> renamed_;
  std::map<std::string, std::string> blobs_;
  std::string good_token_;
  std::vector<Recorded> log_;
};

}  // namespace retort::testing
