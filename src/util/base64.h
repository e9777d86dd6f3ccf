// Standard base64 (RFC 4648, with padding): how binary parquet values appear in Docs.
#pragma once

#include <string>
#include <string_view>

#include "util/strings.h"  // is_valid_utf8, which parquet and JSONL code reach through here

namespace retort {

std::string base64_encode(std::string_view bytes);

}  // namespace retort
