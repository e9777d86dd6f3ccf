// Cryptographic hashes used for cache keys and lm-eval's doc/prompt/target hashes.
#pragma once

#include <string>
#include <string_view>

namespace retort {

// Lower-case hex SHA-256 of the bytes of data.
std::string sha256_hex(std::string_view data);

}  // namespace retort
