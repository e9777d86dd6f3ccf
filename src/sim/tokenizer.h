// The simulator's tokenizer: deterministic, dependency-free and simple enough to describe in
// one paragraph (docs/sim.md). Text is split into pieces by a GPT-2-like pre-tokenizer rule;
// each piece is one token whose id is a stable hash of its bytes modulo kVocabSize.
// Concatenating the pieces of a text gives back the text exactly.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace retort::sim {

inline constexpr uint32_t kVocabSize = 50000;

// One piece of a text: its bytes are text.substr(offset, size).
struct Piece {
  size_t offset = 0;
  size_t size = 0;
};

// Splits text into pieces. A piece is, in order of preference:
//   - an optional single space followed by a run of letters/digits (bytes >= 0x80 count as
//     letters, so UTF-8 sequences stay whole),
//   - an optional single space followed by a run of other non-whitespace bytes
//     (punctuation),
//   - a run of whitespace; when it is followed by a word and ends in a space, that last
//     space is left to start the next piece (" world" is one piece, as in GPT-2).
std::vector<Piece> split_pieces(std::string_view text);

// Stable id of one piece: FNV-1a 64 of its bytes, modulo kVocabSize.
uint32_t token_id(std::string_view piece);

// Tokenizes text and remembers which piece each id came from, so that /detokenize can turn
// ids seen by this process back into text. Thread-safe.
class Tokenizer {
 public:
  Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token strings of text (the pieces), in order.
  std::vector<std::string> pieces(std::string_view text);
  std::vector<uint32_t> encode(std::string_view text);
  size_t count(std::string_view text) const { return split_pieces(text).size(); }
  // The piece an id was first seen as, or "<unk>" for an id this process never produced.
  std::string piece_of(uint32_t id) const;
  std::string decode(const std::vector<uint32_t>& ids) const;

 private:
  void remember(uint32_t id, std::string_view piece);

  std::unique_ptr<std::atomic<bool>[]> known_;
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, std::string> reverse_;
};

}  // namespace retort::sim
