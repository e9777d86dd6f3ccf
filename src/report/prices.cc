// The cost row of the statistics table: list prices of hosted APIs by model-name prefix, a
// user's price file ahead of them, and whether a server is local (its tokens cost nothing).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "report/report.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort {

const std::vector<ModelPrice>& builtin_prices() {
  // USD per million input / output tokens, standard (not batch, not cached-input) list
  // prices as published on openai.com/api/pricing and anthropic.com/pricing in 2025. Prices
  // change: --price_table FILE overrides any entry.
  static const std::vector<ModelPrice> kPrices = {
      {"gpt-5", 1.25, 10.00},
      {"gpt-5-mini", 0.25, 2.00},
      {"gpt-5-nano", 0.05, 0.40},
      {"gpt-4.1", 2.00, 8.00},
      {"gpt-4.1-mini", 0.40, 1.60},
      {"gpt-4.1-nano", 0.10, 0.40},
      {"gpt-4o", 2.50, 10.00},
      {"gpt-4o-mini", 0.15, 0.60},
      {"gpt-4-turbo", 10.00, 30.00},
      {"gpt-3.5-turbo", 0.50, 1.50},
      {"o1", 15.00, 60.00},
      // Prefixes match longer names: o1-mini is not priced as o1.
      {"o1-mini", 1.10, 4.40},
      {"o3", 2.00, 8.00},
      {"o3-mini", 1.10, 4.40},
      {"o4-mini", 1.10, 4.40},
      {"claude-3-haiku", 0.25, 1.25},
      {"claude-3-5-haiku", 0.80, 4.00},
      {"claude-3-5-sonnet", 3.00, 15.00},
      {"claude-3-7-sonnet", 3.00, 15.00},
      {"claude-sonnet-4", 3.00, 15.00},
      {"claude-3-opus", 15.00, 75.00},
      // Opus 4 (claude-opus-4-20250514) and 4.1 only: a bare "claude-opus-4" prefix would
      // also price Opus 4.5 (claude-opus-4-5-...), listed at a third of that (checked against
      // anthropic.com/pricing by a session on 2026-12-07; the 4.5 price only via third-party
      // pages, so it is left out: no cost row rather than a guessed one).
      {"claude-opus-4-2025", 15.00, 75.00},
      {"claude-opus-4-1", 15.00, 75.00},
  };
  return kPrices;
}

std::vector<ModelPrice> load_price_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the price table", path, "check the --price_table path");
  std::stringstream buf;
  buf << in.rdbuf();
  Json j;
  try {
    j = Json::parse(buf.str());
  } catch (const Json::parse_error& e) {
    throw Error(std::string("not valid JSON: ") + e.what(), path,
                "write {\"model-prefix\": {\"input\": 2.5, \"output\": 10}} (USD per 1M tokens)");
  }
  if (!j.is_object())
    throw Error("the price table is not a JSON object", path,
                "write {\"model-prefix\": {\"input\": 2.5, \"output\": 10}} (USD per 1M tokens)");
  std::vector<ModelPrice> out;
  for (const auto& [prefix, v] : j.items()) {
    auto field = [&](const char* k) {
      if (!v.is_object() || !v.contains(k) || !v[k].is_number() || v[k].get<double>() < 0)
        throw Error(std::string("entry '") + prefix + "' needs a number \"" + k + "\" >= 0", path,
                    "prices are USD per million tokens, e.g. {\"input\": 2.5, \"output\": 10}");
      return v[k].get<double>();
    };
    out.push_back(ModelPrice{prefix, field("input"), field("output"), true});
  }
  const auto& builtin = builtin_prices();
  out.insert(out.end(), builtin.begin(), builtin.end());
  return out;
}

const ModelPrice* find_price(const std::vector<ModelPrice>& table, const std::string& model) {
  const std::string lower = to_lower(model);
  const size_t slash = lower.rfind('/');
  const std::string tail = slash == std::string::npos ? lower : lower.substr(slash + 1);
  const ModelPrice* best = nullptr;
  for (const auto& p : table) {
    const std::string prefix = to_lower(p.prefix);
    if (prefix.empty() || (!starts_with(lower, prefix) && !starts_with(tail, prefix))) continue;
    if (!best || (p.from_file && !best->from_file) ||
        (p.from_file == best->from_file && prefix.size() > best->prefix.size()))
      best = &p;
  }
  return best;
}

bool is_local_url(const std::string& base_url) {
  std::string host = to_lower(base_url);
  size_t scheme = host.find("://");
  if (scheme != std::string::npos) host = host.substr(scheme + 3);
  size_t at = host.find('@');
  size_t end = host.find_first_of("/?#");
  if (at != std::string::npos && (end == std::string::npos || at < end)) host = host.substr(at + 1);
  host = host.substr(0, host.find_first_of("/?#"));
  if (starts_with(host, "[")) {  // [::1]:8000
    host = host.substr(1, host.find(']') - 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host == "localhost" || ends_with(host, ".localhost") || ends_with(host, ".local") ||
      host == "::1" || host == "0.0.0.0")
    return true;
  int a = -1, b = -1, c = -1, d = -1;
  if (host.find_first_not_of("0123456789.") == std::string::npos &&
      std::sscanf(host.c_str(), "%d.%d.%d.%d", &a, &b, &c, &d) == 4) {
    if (a == 127 || a == 10) return true;
    if (a == 192 && b == 168) return true;
    if (a == 172 && b >= 16 && b <= 31) return true;
  }
  return false;
}

}  // namespace retort
