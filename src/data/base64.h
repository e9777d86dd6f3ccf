// Standard base64 (RFC 4648, with padding): how binary parquet values appear in Docs.
#pragma once

#include <string>
#include <string_view>

namespace retort {

std::string base64_encode(std::string_view bytes);

// True when s is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace retort
