// Cryptographic hashes used for cache keys and lm-eval's doc/prompt/target hashes.
#pragma once

#include <string>
#include <string_view>

namespace retort {

// Lower-case hex SHA-256 of the bytes of data.
std::string sha256_hex(std::string_view data);

// SHA-256 fed in pieces: hex() of the pieces given to add() equals sha256_hex of their
// concatenation, without building it. hex() ends a digest and starts the next, so one
// object serves many keys.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& add(std::string_view piece);
  std::string hex();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace retort
