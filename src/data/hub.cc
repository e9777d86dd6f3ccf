#include "data/hub.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "data/http_fetch.h"
#include "data/resolve.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/user_folders.h"

namespace retort {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool env_true(const char* name) {
  std::string v = to_lower(trim(env(name)));
  return v == "1" || v == "on" || v == "yes" || v == "true";
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string normalize_etag(std::string etag) {
  etag = trim(etag);
  if (starts_with(etag, "W/")) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

std::string human_size(uint64_t n) {
  if (n >= (1ull << 30)) return fmt::format("{:.1f} GB", n / double(1ull << 30));
  if (n >= (1ull << 20)) return fmt::format("{:.1f} MB", n / double(1ull << 20));
  if (n >= 1024) return fmt::format("{:.1f} kB", n / 1024.0);
  return fmt::format("{} B", n);
}

// Download progress on stderr for big files: a redrawn bar on a terminal, one plain line
// otherwise (logs stay readable).
class ProgressBar {
 public:
  ProgressBar(std::string name, uint64_t total, bool enabled)
      : name_(std::move(name)), total_(total), tty_(isatty(STDERR_FILENO) == 1) {
    enabled_ = enabled && total_ > (1u << 20);
    if (enabled_ && !tty_) log::info("downloading {} ({})", name_, human_size(total_));
  }
  ~ProgressBar() {
    if (enabled_ && tty_ && drawn_) std::fputc('\n', stderr);
  }
  void update(uint64_t now) {
    if (!enabled_ || !tty_) return;
    auto t = std::chrono::steady_clock::now();
    if (drawn_ && now < total_ && t - last_ < std::chrono::milliseconds(100)) return;
    last_ = t;
    drawn_ = true;
    double frac = total_ ? std::min(1.0, double(now) / double(total_)) : 0.0;
    int width = 30;
    int full = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(full), '#');
    bar.resize(static_cast<size_t>(width), '.');
    std::fprintf(stderr, "\r  %s [%s] %3d%% %s / %s", name_.c_str(), bar.c_str(),
                 static_cast<int>(frac * 100), human_size(now).c_str(), human_size(total_).c_str());
    std::fflush(stderr);
  }

 private:
  std::string name_;
  uint64_t total_;
  bool tty_;
  bool enabled_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// Branch and tag names resolved during this process: every task in a run sees the same
// commit of a repo even if someone pushes meanwhile, and MMLU's 57 configs cost one
// metadata request rather than one per split. Keyed by "endpoint|repo|revision".
std::mutex g_resolved_mu;
std::map<std::string, std::string> g_resolved;  // guarded by g_resolved_mu

std::string resolved_commit(const std::string& key) {
  std::lock_guard<std::mutex> lock(g_resolved_mu);
  auto it = g_resolved.find(key);
  return it == g_resolved.end() ? "" : it->second;
}

void remember_commit(const std::string& key, const std::string& commit) {
  std::lock_guard<std::mutex> lock(g_resolved_mu);
  g_resolved[key] = commit;
}

// What one revision of a repo holds, as the Hub reported it (cached on disk per commit so
// that pinned commits and offline runs need no network).
struct RepoState {
  std::string repo;    // canonical id
  std::string commit;  // sha
  std::vector<std::string> files;
  Json card = Json::object();
  Json parquet_api;  // {config: {split: [urls]}} for the parquet branch, when fetched
};

class HubClient {
 public:
  // model = a model repo (URLs without "/datasets", cache folder "models--"), else a dataset.
  HubClient(const HubSettings& settings, std::string repo, bool model = false)
      : s_(settings), repo_(std::move(repo)), model_(model) {
    if (!s_.token.empty()) log::add_secret(s_.token);
  }

  const HubSettings& settings() const { return s_; }
  const std::string& repo() const { return repo_; }

  std::string repo_dir() const {
    std::string folder = (model_ ? "models--" : "datasets--") + repo_;
    size_t pos;
    while ((pos = folder.find('/')) != std::string::npos) folder.replace(pos, 1, "--");
    return s_.cache_dir + "/" + folder;
  }

  // "dataset" or "model", for messages.
  const char* kind() const { return model_ ? "model" : "dataset"; }
  std::string repo_url() const { return s_.endpoint + (model_ ? "/" : "/datasets/") + repo_; }

  std::string resolve_url(const std::string& revision, const std::string& path) const {
    return repo_url() + "/resolve/" + url_encode(revision) + "/" +
           url_encode(path, /*keep_slash=*/true);
  }

  // The commit a revision resolves to from refs/ (or the revision itself when it is one).
  std::string cached_commit(const std::string& revision) const {
    if (is_commit_hash(revision)) return revision;
    std::error_code ec;
    std::string ref = repo_dir() + "/refs/" + revision;
    if (!fs::is_regular_file(ref, ec)) return "";
    return trim(read_file(ref));
  }

  void write_ref(const std::string& revision, const std::string& commit) const {
    if (is_commit_hash(revision) || commit.empty()) return;
    std::string ref = repo_dir() + "/refs/" + revision;
    std::error_code ec;
    fs::create_directories(fs::path(ref).parent_path(), ec);
    if (fs::is_regular_file(ref, ec) && trim(read_file(ref)) == commit) return;
    write_atomic(ref, commit);
  }

  // Writes through a uniquely named temporary in .retort/ (never in refs/, where a leftover
  // would read as a ref to huggingface_hub), then renames into place.
  void write_atomic(const std::string& path, const std::string& content) const {
    std::error_code ec;
    std::string tmp_dir = repo_dir() + "/.retort";
    fs::create_directories(tmp_dir, ec);
    std::random_device rd;
    std::string tmp = tmp_dir + "/tmp." + fmt::format("{:08x}{:08x}", rd(), rd());
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << content;
      out.flush();
      if (!out) {
        fs::remove(tmp, ec);
        throw Error("cannot write to the Hub cache", tmp, "check HF_HUB_CACHE / HF_HOME");
      }
    }
    fs::create_directories(fs::path(path).parent_path(), ec);
    fs::rename(tmp, path, ec);
    if (ec) {
      fs::remove(tmp, ec);
      throw Error("cannot write to the Hub cache", path, "check HF_HUB_CACHE / HF_HOME");
    }
  }

  std::string state_path(const std::string& commit) const {
    return repo_dir() + "/.retort/" + commit + ".json";
  }

  bool load_cached_state(const std::string& commit, RepoState& st) const {
    std::error_code ec;
    std::string p = state_path(commit);
    if (!fs::is_regular_file(p, ec)) return false;
    try {
      Json j = Json::parse(read_file(p));
      st.repo = j.value("repo", repo_);
      st.commit = commit;
      st.files = j.value("files", std::vector<std::string>{});
      st.card = j.value("cardData", Json::object());
      st.parquet_api = j.value("parquet_api", Json());
      return true;
    } catch (const std::exception&) {
      return false;  // a damaged note is refetched
    }
  }

  void save_state(const RepoState& st) const {
    Json j = Json::object();
    j["repo"] = st.repo;
    j["sha"] = st.commit;
    j["files"] = st.files;
    j["cardData"] = st.card;
    if (!st.parquet_api.is_null()) j["parquet_api"] = st.parquet_api;
    std::error_code ec;
    fs::create_directories(repo_dir() + "/.retort", ec);
    try {
      write_atomic(state_path(st.commit), j.dump());
    } catch (const Error& e) {
      log::debug("cannot write {}: {}", state_path(st.commit), e.what());
    }
  }

  // Files a cached snapshot holds (what Python users downloaded), for offline use when no
  // listing was saved.
  std::vector<std::string> snapshot_files(const std::string& commit) const {
    std::vector<std::string> out;
    std::string dir = repo_dir() + "/snapshots/" + commit;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_directory(ec)) continue;
      out.push_back(it->path().lexically_relative(dir).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  [[noreturn]] void throw_offline(const std::string& what, const std::string& revision) const {
    throw Error(what + " is not in the cache and HF_HUB_OFFLINE (or HF_DATASETS_OFFLINE) is set",
                repo_ + "@" + revision + " in " + s_.cache_dir,
                "run once online to download it, or unset HF_HUB_OFFLINE");
  }

  // GET/HEAD with Hub error mapping. `path` names the file for EntryNotFound errors.
  HttpResponse request(HttpRequest req, const std::string& revision,
                       const std::string& path = "") const {
    req.bearer_token = s_.token;
    HttpResponse resp;
    for (int attempt = 0;; ++attempt) {
      try {
        resp = http_fetch(req);
      } catch (const Error& e) {
        throw Error("cannot reach the Hub at " + s_.endpoint + " (" + e.what_failed() + ")",
                    req.url,
                    "check the network and HF_ENDPOINT; with the data already cached, set "
                    "HF_HUB_OFFLINE=1");
      }
      bool retryable = resp.status == 429 || resp.status >= 500;
      if (!retryable || attempt >= 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500 * (attempt + 1)));
    }
    if (resp.status < 400) return resp;
    std::string code = resp.header("x-error-code");
    std::string hub_msg = resp.header("x-error-message");
    std::string at = repo_ + "@" + revision;
    if (code == "RepoNotFound" || (resp.status == 404 && code.empty() && path.empty() &&
                                   hub_msg.find("evision") == std::string::npos)) {
      throw Error(std::string(kind()) + " repo '" + repo_ + "' not found (HTTP " +
                      std::to_string(resp.status) + ")",
                  req.url,
                  "check the id (org/name) at " + s_.endpoint + (model_ ? "/models" : "/datasets") +
                      "; a private repo needs HF_TOKEN");
    }
    if (resp.status == 401 || resp.status == 403 || code == "GatedRepo") {
      std::string hint = "accept the terms at " + repo_url() + ", then set HF_TOKEN";
      if (!s_.token.empty()) hint += " (the token in use has no access to this repo)";
      throw Error(std::string(kind()) + " '" + repo_ + "' is gated or private (HTTP " +
                      std::to_string(resp.status) + ")",
                  req.url, hint);
    }
    if (code == "RevisionNotFound" || (resp.status == 404 && path.empty())) {
      throw Error("revision '" + revision + "' not found in " + kind() + " repo '" + repo_ + "'",
                  req.url, "use a branch, tag or commit that exists in " + repo_url());
    }
    if (resp.status == 404) {
      throw Error("file '" + path + "' not found in " + kind() + " repo", at, "see " + repo_url());
    }
    std::string detail = hub_msg.empty() ? trim(resp.body.substr(0, 200)) : hub_msg;
    throw Error("the Hub answered HTTP " + std::to_string(resp.status) +
                    (detail.empty() ? "" : ": " + detail),
                req.url);
  }

  Json get_json(const std::string& url, const std::string& revision) const {
    HttpRequest req;
    req.url = url;
    req.redirects = HttpRequest::Redirects::kRelative;  // renamed repos
    req.timeout_s = 120;
    HttpResponse resp = request(req, revision);
    try {
      return Json::parse(resp.body);
    } catch (const std::exception&) {
      throw Error("the Hub sent a reply that is not JSON", url);
    }
  }

  // Paged recursive tree listing (files only).
  std::vector<std::string> list_tree(const std::string& revision) const {
    std::vector<std::string> out;
    std::string url = s_.endpoint + "/api/datasets/" + repo_ + "/tree/" + url_encode(revision) +
                      "?recursive=true";
    for (int page = 0; !url.empty() && page < 10000; ++page) {
      HttpRequest req;
      req.url = url;
      req.redirects = HttpRequest::Redirects::kRelative;
      req.timeout_s = 120;
      HttpResponse resp = request(req, revision);
      Json j;
      try {
        j = Json::parse(resp.body);
      } catch (const std::exception&) {
        throw Error("the Hub sent a tree listing that is not JSON", url);
      }
      if (!j.is_array()) throw Error("unexpected tree listing", url);
      for (const auto& e : j) {
        if (e.value("type", "") == "file" && e.contains("path")) {
          out.push_back(e["path"].get<std::string>());
        }
      }
      url = next_link(resp.header("link"), url);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::string next_link(const std::string& link, const std::string& base) {
    // Link: <url>; rel="next", <url2>; rel="prev"
    for (const auto& part : split(link, ',')) {
      size_t lt = part.find('<'), gt = part.find('>');
      if (lt == std::string::npos || gt == std::string::npos || gt < lt) continue;
      std::string params = part.substr(gt + 1);
      if (params.find("rel=\"next\"") == std::string::npos &&
          params.find("rel=next") == std::string::npos) {
        continue;
      }
      std::string target = part.substr(lt + 1, gt - lt - 1);
      if (starts_with(target, "/")) target = url_origin_prefix(base) + target;
      return target;
    }
    return "";
  }

  static std::string url_origin_prefix(const std::string& url) {
    size_t scheme = url.find("://");
    size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return slash == std::string::npos ? url : url.substr(0, slash);
  }

  // What a revision holds: from the cache for pinned commits and offline runs, else from
  // /api/datasets/{repo}/revision/{rev}.
  RepoState state(const std::string& revision) {
    RepoState st;
    if (s_.offline) {
      std::string commit = cached_commit(revision);
      if (commit.empty()) throw_offline("dataset '" + repo_ + "'", revision);
      if (load_cached_state(commit, st)) return st;
      st.repo = repo_;
      st.commit = commit;
      st.files = snapshot_files(commit);
      if (st.files.empty()) throw_offline("dataset '" + repo_ + "'", revision);
      return st;
    }
    if (is_commit_hash(revision) && load_cached_state(revision, st)) return st;
    std::string key = s_.endpoint + "|" + repo_ + "|" + revision;
    std::string seen = resolved_commit(key);
    if (!seen.empty() && load_cached_state(seen, st)) return st;
    std::string url = s_.endpoint + "/api/datasets/" + repo_ + "/revision/" + url_encode(revision);
    Json info = get_json(url, revision);
    st.repo = info.value("id", repo_);
    st.commit = info.value("sha", "");
    if (st.commit.empty()) throw Error("the Hub reply names no commit (sha)", url);
    if (info.contains("cardData") && info["cardData"].is_object()) st.card = info["cardData"];
    if (info.contains("siblings") && info["siblings"].is_array()) {
      for (const auto& s : info["siblings"]) {
        if (s.contains("rfilename")) st.files.push_back(s["rfilename"].get<std::string>());
      }
      std::sort(st.files.begin(), st.files.end());
    } else {
      st.files = list_tree(st.commit);
    }
    write_ref(revision, st.commit);
    save_state(st);
    remember_commit(key, st.commit);
    return st;
  }

  // The auto-converted parquet branch, with the config/split names from the parquet API.
  RepoState parquet_state() {
    const std::string rev = "refs/convert/parquet";
    RepoState st = state(rev);
    if (st.parquet_api.is_null() && !s_.offline) {
      st.parquet_api = get_json(s_.endpoint + "/api/datasets/" + repo_ + "/parquet", rev);
      save_state(st);
    }
    return st;
  }

  // Local path of one file at a revision, downloading it into the cache when needed.
  std::string download(const std::string& path, const std::string& revision) {
    std::error_code ec;
    // A commit's snapshot never changes; a branch may have moved since refs/ was written,
    // so online it is asked again (HEAD gives the commit it points at now).
    std::string known = is_commit_hash(revision) || s_.offline ? cached_commit(revision) : "";
    if (!known.empty()) {
      std::string snap = repo_dir() + "/snapshots/" + known + "/" + path;
      if (fs::exists(snap, ec)) return snap;
    }
    if (s_.offline) throw_offline("file '" + path + "'", revision);

    HttpRequest head;
    head.method = "HEAD";
    head.url = resolve_url(revision, path);
    head.headers = {"Accept-Encoding: identity"};
    head.redirects = HttpRequest::Redirects::kRelative;
    head.timeout_s = 60;
    HttpResponse meta = request(head, revision, path);
    std::string commit = meta.header("x-repo-commit");
    if (commit.empty()) commit = is_commit_hash(revision) ? revision : "";
    std::string etag = normalize_etag(meta.header("x-linked-etag"));
    if (etag.empty()) etag = normalize_etag(meta.header("etag"));
    if (commit.empty() || etag.empty()) {
      throw Error("the Hub reply lacks X-Repo-Commit or ETag", head.url,
                  "is HF_ENDPOINT a Hugging Face Hub?");
    }
    uint64_t size = 0;
    std::string size_text = meta.header("x-linked-size");
    if (size_text.empty()) size_text = meta.header("content-length");
    if (!size_text.empty()) size = std::strtoull(size_text.c_str(), nullptr, 10);
    write_ref(revision, commit);

    std::string snap = repo_dir() + "/snapshots/" + commit + "/" + path;
    if (fs::exists(snap, ec)) return snap;
    std::string blob = repo_dir() + "/blobs/" + etag;
    if (!fs::exists(blob, ec)) fetch_blob(resolve_url(commit, path), path, blob, size, commit);
    link_snapshot(snap, path, etag);
    return snap;
  }

  void fetch_blob(const std::string& url, const std::string& path, const std::string& blob,
                  uint64_t size, const std::string& commit) {
    std::error_code ec;
    fs::create_directories(fs::path(blob).parent_path(), ec);
    std::random_device rd;
    std::string tmp = blob + "." + fmt::format("{:08x}{:08x}", rd(), rd()) + ".incomplete";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw Error("cannot write to the Hub cache", tmp, "check HF_HUB_CACHE / HF_HOME");
    uint64_t written = 0;
    bool write_failed = false;
    ProgressBar bar(path, size, s_.progress);
    HttpRequest get;
    get.url = url;
    get.redirects = HttpRequest::Redirects::kAll;
    get.sink = [&](const char* data, size_t n) {
      if (std::fwrite(data, 1, n, f) != n) write_failed = true;
      written += n;
      bar.update(written);
    };
    try {
      request(get, commit, path);
    } catch (...) {
      std::fclose(f);
      fs::remove(tmp, ec);
      throw;
    }
    if (std::fclose(f) != 0) write_failed = true;
    if (write_failed) {
      fs::remove(tmp, ec);
      throw Error("cannot write to the Hub cache (disk full?)", tmp);
    }
    if (size > 0 && written != size) {
      fs::remove(tmp, ec);
      throw Error(
          fmt::format("download of '{}' is incomplete ({} of {} bytes)", path, written, size), url,
          "try again");
    }
    fs::rename(tmp, blob, ec);
    if (ec) {
      fs::remove(tmp, ec);
      throw Error("cannot move a download into the Hub cache", blob);
    }
  }

  void link_snapshot(const std::string& snap, const std::string& path,
                     const std::string& etag) const {
    std::error_code ec;
    fs::create_directories(fs::path(snap).parent_path(), ec);
    // Relative, as huggingface_hub makes it: snapshots/{commit}/{path} -> ../../blobs/{etag}
    // with one more ".." per folder in path.
    std::string target = "../../";
    for (char c : path) {
      if (c == '/') target += "../";
    }
    target += "blobs/" + etag;
    fs::create_symlink(target, snap, ec);
    if (ec && !fs::exists(snap)) {
      throw Error("cannot create a link in the Hub cache: " + ec.message(), snap);
    }
  }

 private:
  HubSettings s_;
  std::string repo_;
  bool model_ = false;
};

HubSplitInfo make_split(const std::string& name, std::vector<std::string> files) {
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return {name, std::move(files)};
}

void order_splits(std::vector<HubSplitInfo>& splits) {
  SplitFiles tmp;
  for (auto& s : splits) tmp.emplace_back(s.name, std::move(s.files));
  sort_splits(tmp);
  splits.clear();
  for (auto& [n, f] : tmp) splits.push_back({n, std::move(f)});
}

std::vector<HubConfigInfo> configs_from_card(const std::vector<CardConfig>& card,
                                             const std::vector<std::string>& files) {
  std::vector<HubConfigInfo> out;
  for (const auto& c : card) {
    HubConfigInfo ci;
    ci.name = c.name;
    ci.is_default = c.is_default;
    std::string prefix = c.data_dir.empty() ? "" : c.data_dir + "/";
    if (!c.data_files.empty()) {
      std::map<std::string, std::vector<std::string>> merged;
      std::vector<std::string> order;
      for (const auto& [split, patterns] : c.data_files) {
        std::vector<std::string> pats;
        for (const auto& p : patterns) pats.push_back(prefix + p);
        if (!merged.count(split)) order.push_back(split);
        for (auto& f : match_files(pats, files)) merged[split].push_back(std::move(f));
      }
      for (const auto& s : order) ci.splits.push_back(make_split(s, merged[s]));
    } else {
      std::vector<std::string> rel;
      for (const auto& f : files) {
        if (prefix.empty() || starts_with(f, prefix)) rel.push_back(f.substr(prefix.size()));
      }
      for (auto& [split, paths] : splits_from_file_names(rel)) {
        for (auto& p : paths) p = prefix + p;
        ci.splits.push_back(make_split(split, paths));
      }
    }
    order_splits(ci.splits);
    out.push_back(std::move(ci));
  }
  // Without a `default: true`, a config named "default" is the default.
  bool any_default = std::any_of(out.begin(), out.end(), [](auto& c) { return c.is_default; });
  if (!any_default) {
    for (auto& c : out) c.is_default = c.name == "default";
  }
  return out;
}

std::vector<HubConfigInfo> configs_from_parquet(const RepoState& st) {
  std::vector<HubConfigInfo> out;
  std::map<std::string, std::map<std::string, std::vector<std::string>>> found;
  for (const auto& f : st.files) {
    std::vector<std::string> parts = split(f, '/');
    if (parts.size() != 3 || !ends_with(parts[2], ".parquet")) continue;
    std::string split_name = parts[1];
    if (starts_with(split_name, "partial-")) split_name = split_name.substr(8);
    found[parts[0]][split_name].push_back(f);
  }
  if (st.parquet_api.is_object()) {
    for (const auto& [config, splits] : st.parquet_api.items()) {
      HubConfigInfo ci;
      ci.name = config;
      if (splits.is_object()) {
        for (const auto& [split_name, urls] : splits.items()) {
          ci.splits.push_back(make_split(split_name, found[config][split_name]));
        }
      }
      order_splits(ci.splits);
      out.push_back(std::move(ci));
    }
  } else {
    for (auto& [config, splits] : found) {
      HubConfigInfo ci;
      ci.name = config;
      for (auto& [split_name, files] : splits) ci.splits.push_back(make_split(split_name, files));
      order_splits(ci.splits);
      out.push_back(std::move(ci));
    }
  }
  for (auto& c : out) c.is_default = c.name == "default";
  return out;
}

HubDatasetInfo info_from_state(const RepoState& st, const std::string& revision) {
  HubDatasetInfo info;
  info.repo = st.repo;
  info.revision = revision;
  info.commit = st.commit;
  info.files = st.files;
  std::vector<CardConfig> card = card_configs(st.card);
  if (!card.empty()) {
    info.source = "card";
    info.configs = configs_from_card(card, st.files);
    return info;
  }
  info.source = "files";
  for (auto& fc : configs_from_file_names(st.files)) {
    HubConfigInfo ci;
    ci.name = fc.name;
    ci.is_default = fc.name == "default";
    for (auto& [split_name, files] : fc.splits) ci.splits.push_back(make_split(split_name, files));
    order_splits(ci.splits);
    info.configs.push_back(std::move(ci));
  }
  return info;
}

HubDatasetInfo parquet_info(HubClient& client) {
  RepoState st = client.parquet_state();
  HubDatasetInfo info;
  info.repo = st.repo;
  info.revision = "refs/convert/parquet";
  info.commit = st.commit;
  info.files = st.files;
  info.source = "parquet";
  info.configs = configs_from_parquet(st);
  return info;
}

std::vector<std::string> config_names(const HubDatasetInfo& info) {
  std::vector<std::string> out;
  for (const auto& c : info.configs) out.push_back(c.name);
  return out;
}

const HubConfigInfo* find_config(const HubDatasetInfo& info, const std::string& config) {
  for (const auto& c : info.configs) {
    if (c.name == config) return &c;
  }
  return nullptr;
}

}  // namespace

void hub_forget_resolved_revisions() {
  std::lock_guard<std::mutex> lock(g_resolved_mu);
  g_resolved.clear();
}

HubSettings HubSettings::from_env() {
  HubSettings s;
  std::string endpoint = trim(env("HF_ENDPOINT"));
  while (ends_with(endpoint, "/")) endpoint.pop_back();
  if (!endpoint.empty()) s.endpoint = endpoint;
  std::string home = env("HF_HOME");
  if (home.empty()) home = user_cache_home() + "/huggingface";  // huggingface_hub's default
  s.cache_dir = env("HF_HUB_CACHE");
  if (s.cache_dir.empty()) s.cache_dir = home + "/hub";
  s.token = trim(env("HF_TOKEN"));
  if (s.token.empty()) s.token = trim(env("HUGGING_FACE_HUB_TOKEN"));
  if (s.token.empty()) {
    std::error_code ec;
    std::string token_file = home + "/token";
    if (fs::is_regular_file(token_file, ec)) {
      try {
        s.token = trim(read_file(token_file));
      } catch (const Error&) {
        s.token.clear();
      }
    }
  }
  if (!s.token.empty()) log::add_secret(s.token);
  s.offline = env_true("HF_HUB_OFFLINE") || env_true("HF_DATASETS_OFFLINE");
  return s;
}

bool looks_like_hub_repo(const std::string& path) {
  if (path.empty() || is_data_file(path)) return false;
  std::vector<std::string> parts = split(path, '/');
  if (parts.size() > 2) return false;
  for (const auto& p : parts) {
    if (p.empty() || p == "." || p == "..") return false;
    if (!std::isalnum(static_cast<unsigned char>(p[0]))) return false;
    for (char c : p) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
        return false;
      }
    }
  }
  return true;
}

HubDatasetInfo hub_dataset_info(const std::string& repo, const std::string& revision,
                                const HubSettings& settings) {
  std::string rev = revision.empty() ? "main" : revision;
  HubClient client(settings, repo);
  HubDatasetInfo info = info_from_state(client.state(rev), rev);
  if (info.configs.empty()) {
    // No data files the datasets library would read (a script dataset): the Hub's
    // auto-converted parquet branch has them.
    info = parquet_info(client);
  }
  return info;
}

const HubConfigInfo& hub_pick_config(const HubDatasetInfo& info, const std::string& config) {
  std::string where = info.repo + "@" + info.revision;
  if (config.empty()) {
    if (info.configs.size() == 1) return info.configs[0];
    for (const auto& c : info.configs) {
      if (c.is_default) return c;
    }
    throw Error("dataset has several configs; choose one", where,
                "set dataset_name to one of: " + join(config_names(info), ", "));
  }
  if (const auto* c = find_config(info, config)) return *c;
  std::string hint = "configs: " + join(config_names(info), ", ");
  auto near = closest_matches(config, config_names(info));
  if (!near.empty()) hint = "did you mean '" + near[0] + "'? " + hint;
  throw Error("config '" + config + "' not found", where, hint);
}

std::vector<std::string> hub_resolve_files(const std::string& repo, const std::string& config,
                                           const std::string& split, const std::string& revision,
                                           const HubSettings& settings) {
  std::string rev = revision.empty() ? "main" : revision;
  HubClient client(settings, repo);
  HubDatasetInfo info = info_from_state(client.state(rev), rev);
  bool have =
      info.configs.empty() ? false : (config.empty() ? true : find_config(info, config) != nullptr);
  if (!have) {
    // Fall back to the parquet branch when the repo's own files do not have the config;
    // keep the repo's listing for the error when the branch does not have it either.
    try {
      HubDatasetInfo pq = parquet_info(client);
      if (!pq.configs.empty() && (config.empty() || find_config(pq, config))) {
        info = std::move(pq);
      }
    } catch (const Error& e) {
      if (info.configs.empty()) throw;
      log::debug("no parquet branch for {}: {}", repo, e.what());
    }
  }
  if (info.configs.empty()) {
    throw Error("dataset repo holds no data files", repo + "@" + rev,
                "name the files with dataset_kwargs.data_files");
  }
  const HubConfigInfo& cfg = hub_pick_config(info, config);
  const HubSplitInfo* found = nullptr;
  std::vector<std::string> names;
  for (const auto& s : cfg.splits) names.push_back(s.name);
  for (const auto& s : cfg.splits) {
    if (s.name == split) found = &s;
  }
  if (!found && info.source == "files") {
    // Split names made from file names: "dev" files answer for "validation" and so on.
    for (const auto& s : cfg.splits) {
      if (canonical_split(s.name) == canonical_split(split)) found = &s;
    }
  }
  std::string where = info.repo + (cfg.name.empty() ? "" : " config '" + cfg.name + "'");
  if (!found) {
    throw Error("split '" + split + "' not found", where,
                "splits: " + (names.empty() ? std::string("none") : join(names, ", ")));
  }
  if (found->files.empty()) {
    throw Error("no files in the repo match split '" + split + "'", where,
                "check the configs block of the dataset card");
  }
  std::vector<std::string> out;
  for (const auto& f : found->files) out.push_back(client.download(f, info.commit));
  return out;
}

std::string hub_download_file(const std::string& repo, const std::string& path,
                              const std::string& revision, const HubSettings& settings) {
  HubClient client(settings, repo);
  return client.download(path, revision.empty() ? "main" : revision);
}

std::string hub_download_model_file(const std::string& repo, const std::string& path,
                                    const std::string& revision, const HubSettings& settings) {
  HubClient client(settings, repo, /*model=*/true);
  return client.download(path, revision.empty() ? "main" : revision);
}

}  // namespace retort
