#include "sim/state.h"

#include <openssl/evp.h>

#include <cstring>

namespace retort::sim {

const char* route_name(Route r) {
  switch (r) {
    case Route::kModels:
      return "/v1/models";
    case Route::kChat:
      return "/v1/chat/completions";
    case Route::kCompletions:
      return "/v1/completions";
    case Route::kMessages:
      return "/v1/messages";
    case Route::kTokenize:
      return "/tokenize";
    case Route::kDetokenize:
      return "/detokenize";
    case Route::kHealth:
      return "/health";
    case Route::kMetrics:
      return "/metrics";
    case Route::kStats:
      return "/sim/stats";
    default:
      return "other";
  }
}

const char* fault_name(Fault f) {
  switch (f) {
    case Fault::k429:
      return "429";
    case Fault::k500:
      return "500";
    case Fault::k503:
      return "503";
    case Fault::kReset:
      return "reset";
    case Fault::kMalformed:
      return "malformed";
    case Fault::kTruncate:
      return "truncate";
    case Fault::kStall:
      return "stall";
    default:
      return "none";
  }
}

BodyKey body_key(std::string_view route, std::string_view body) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, route.data(), route.size());
  EVP_DigestUpdate(ctx, "\n", 1);
  EVP_DigestUpdate(ctx, body.data(), body.size());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  BodyKey k;
  std::memcpy(&k.hi, digest, 8);
  std::memcpy(&k.lo, digest + 8, 8);
  return k;
}

BodyTracker::Arrival BodyTracker::arrive(const BodyKey& key) {
  Shard& s = shards_[key.hi % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  State& st = s.map[key];
  Arrival a{st.seen, st.successes > 0};
  ++st.seen;
  return a;
}

bool BodyTracker::succeed(const BodyKey& key) {
  Shard& s = shards_[key.hi % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  State& st = s.map[key];
  return st.successes++ > 0;
}

uint64_t BodyTracker::unique_bodies() const {
  uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.map.size();
  }
  return n;
}

bool SeqScheduler::acquire(std::function<void(TimePoint)> granted) {
  std::lock_guard<std::mutex> lock(mu_);
  if (limit_ > 0 && running_ >= limit_) {
    waiting_.push_back(std::move(granted));
    return false;
  }
  ++running_;
  return true;
}

void SeqScheduler::release(TimePoint freed_at) {
  std::function<void(TimePoint)> next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiting_.empty() || (limit_ > 0 && running_ - 1 >= limit_)) {
      --running_;
      return;
    }
    // The slot passes straight to the first waiter; running_ stays the same.
    next = std::move(waiting_.front());
    waiting_.pop_front();
  }
  next(freed_at);
}

int SeqScheduler::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

int SeqScheduler::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(waiting_.size());
}

size_t PrefixCache::lookup_and_insert(const std::vector<uint32_t>& ids) {
  std::vector<uint64_t> blocks;
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < ids.size(); ++i) {
    h = (h ^ ids[i]) * 0x100000001b3ull;
    h ^= h >> 29;
    if ((i + 1) % kBlock == 0) blocks.push_back(h);
  }
  std::lock_guard<std::mutex> lock(mu_);
  size_t hits = 0;
  bool prefix = true;
  for (uint64_t b : blocks) {
    auto it = index_.find(b);
    if (it != index_.end()) {
      if (prefix) ++hits;
      lru_.splice(lru_.begin(), lru_, it->second);
    } else {
      prefix = false;
      lru_.push_front(b);
      index_[b] = lru_.begin();
      if (lru_.size() > capacity_) {
        index_.erase(lru_.back());
        lru_.pop_back();
      }
    }
  }
  return hits * kBlock;
}

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

double uniform01(uint64_t seed, const BodyKey& key, uint32_t attempt) {
  uint64_t x = splitmix64(seed ^ splitmix64(key.hi ^ splitmix64(key.lo + attempt)));
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

}  // namespace retort::sim
