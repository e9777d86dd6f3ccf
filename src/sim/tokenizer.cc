#include "sim/tokenizer.h"

#include <memory>

namespace retort::sim {

namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_word(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
bool is_punct(unsigned char c) {
  return !is_space(c) && !is_word(c);
}

}  // namespace

std::vector<Piece> split_pieces(std::string_view text) {
  std::vector<Piece> out;
  out.reserve(text.size() / 4 + 1);
  const size_t n = text.size();
  auto at = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    size_t j = i;
    if (at(j) == ' ' && j + 1 < n && !is_space(at(j + 1))) ++j;
    if (is_word(at(j))) {
      while (j < n && is_word(at(j))) ++j;
    } else if (is_punct(at(j))) {
      while (j < n && is_punct(at(j))) ++j;
    } else {
      // A whitespace run. Leave a trailing space for the next word, as GPT-2 does.
      while (j < n && is_space(at(j))) ++j;
      if (j < n && j - start > 1 && at(j - 1) == ' ') --j;
    }
    out.push_back({start, j - start});
    i = j;
  }
  return out;
}

uint32_t token_id(std::string_view piece) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : piece) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<uint32_t>(h % kVocabSize);
}

Tokenizer::Tokenizer() : known_(std::make_unique<std::atomic<bool>[]>(kVocabSize)) {
  for (uint32_t i = 0; i < kVocabSize; ++i) known_[i].store(false, std::memory_order_relaxed);
}

void Tokenizer::remember(uint32_t id, std::string_view piece) {
  // The vocabulary of a run saturates quickly, so the common case is one relaxed load.
  if (known_[id].load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (reverse_.emplace(id, std::string(piece)).second) {
    known_[id].store(true, std::memory_order_release);
  }
}

std::vector<std::string> Tokenizer::pieces(std::string_view text) {
  std::vector<std::string> out;
  auto ps = split_pieces(text);
  out.reserve(ps.size());
  for (const auto& p : ps) {
    std::string_view s = text.substr(p.offset, p.size);
    remember(token_id(s), s);
    out.emplace_back(s);
  }
  return out;
}

std::vector<uint32_t> Tokenizer::encode(std::string_view text) {
  std::vector<uint32_t> out;
  auto ps = split_pieces(text);
  out.reserve(ps.size());
  for (const auto& p : ps) {
    std::string_view s = text.substr(p.offset, p.size);
    uint32_t id = token_id(s);
    remember(id, s);
    out.push_back(id);
  }
  return out;
}

std::string Tokenizer::piece_of(uint32_t id) const {
  if (id >= kVocabSize || !known_[id].load(std::memory_order_acquire)) return "<unk>";
  std::lock_guard<std::mutex> lock(mu_);
  auto it = reverse_.find(id);
  return it == reverse_.end() ? "<unk>" : it->second;
}

std::string Tokenizer::decode(const std::vector<uint32_t>& ids) const {
  std::string out;
  for (uint32_t id : ids) out += piece_of(id);
  return out;
}

}  // namespace retort::sim
