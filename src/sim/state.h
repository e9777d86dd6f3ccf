// Shared, thread-safe state of a running simulator: request counters, the per-body record
// behind fault decisions and duplicate counting, the sequence scheduler (--max-seqs) and the
// prefix cache.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace retort::sim {

// The routes we count separately; anything else is kOther.
enum class Route {
  kModels,
  kChat,
  kCompletions,
  kMessages,
  kTokenize,
  kDetokenize,
  kHealth,
  kMetrics,
  kStats,
  kOther,
  kCount
};
const char* route_name(Route r);

enum class Fault { kNone, k429, k500, k503, kReset, kMalformed, kTruncate, kStall, kCount };
const char* fault_name(Fault f);

struct Counters {
  std::atomic<uint64_t> requests_total{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Route::kCount)> by_route{};
  std::array<std::atomic<uint64_t>, 600> by_status{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Fault::kCount)> faults{};
  std::atomic<uint64_t> duplicate_successes{0};
  std::atomic<uint64_t> successes{0};
  std::atomic<uint64_t> prompt_tokens{0};
  std::atomic<uint64_t> generation_tokens{0};
  std::atomic<uint64_t> prefix_queries{0};  // prompt tokens looked up in the prefix cache
  std::atomic<uint64_t> prefix_hits{0};     // of which were cached
};

// A 128-bit digest of a request (route + body).
struct BodyKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const BodyKey& o) const { return hi == o.hi && lo == o.lo; }
};
BodyKey body_key(std::string_view route, std::string_view body);

// Remembers every generation request body seen: how often it arrived (so a retry draws a
// fresh fault decision) and whether it was answered successfully (duplicate counting).
class BodyTracker {
 public:
  struct Arrival {
    uint32_t attempt = 0;  // arrivals of this body before this one
    bool already_succeeded = false;
  };
  Arrival arrive(const BodyKey& key);
  // Records a success; returns true when the body had already been answered successfully.
  bool succeed(const BodyKey& key);
  uint64_t unique_bodies() const;

 private:
  struct Hash {
    size_t operator()(const BodyKey& k) const { return static_cast<size_t>(k.lo); }
  };
  struct State {
    uint32_t seen = 0;
    uint32_t successes = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<BodyKey, State, Hash> map;
  };
  static constexpr size_t kShards = 64;
  std::array<Shard, kShards> shards_;
};

// At most `limit` sequences run at once (0 = no limit); the rest wait in FIFO order.
class SeqScheduler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit SeqScheduler(int limit) : limit_(limit) {}
  // Takes a slot and returns true when one is free; else queues granted(freed_at), which the
  // thread that frees a slot calls later (the slot then belongs to the waiter), and returns
  // false.
  bool acquire(std::function<void(TimePoint)> granted);
  // Frees a slot. freed_at is when the sequence ended on the latency model's clock (its
  // scheduled end, which the timer that ran it may have passed a little): a waiter's
  // sequence starts from there, so timer lateness does not add up from one request to the
  // next, as it would not on a real server that refills a slot at once.
  void release(TimePoint freed_at);
  int running() const;
  int waiting() const;

 private:
  mutable std::mutex mu_;
  int limit_;
  int running_ = 0;
  std::deque<std::function<void(TimePoint)>> waiting_;
};

// Automatic prefix caching, roughly: prompts are cut into blocks of kBlock tokens, each block
// identified by a hash of everything up to its end; recently seen blocks (LRU) are cached.
class PrefixCache {
 public:
  static constexpr size_t kBlock = 16;
  explicit PrefixCache(size_t capacity_blocks = 1 << 16) : capacity_(capacity_blocks) {}
  // Returns how many leading tokens of ids were cached, then caches all of ids' blocks.
  size_t lookup_and_insert(const std::vector<uint32_t>& ids);

 private:
  std::mutex mu_;
  size_t capacity_;
  std::list<uint64_t> lru_;  // most recent first
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> index_;
};

// Uniform in [0, 1), a pure function of its inputs.
double uniform01(uint64_t seed, const BodyKey& key, uint32_t attempt);

}  // namespace retort::sim
