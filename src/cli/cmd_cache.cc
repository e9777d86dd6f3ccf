// `retort cache stats|clear [--cache PATH]`: look at or empty the response cache.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "cache/cache.h"
#include "cli/commands.h"
#include "util/error.h"

namespace retort::cli {

int cmd_cache(const Args& args) {
  CLI::App app{"Inspect or clear the response cache.", "retort cache"};
  app.require_subcommand(1);
  std::string path;
  app.add_option("--cache", path, "cache file (default: $XDG_CACHE_HOME/retort/cache.sqlite)");
  auto* stats = app.add_subcommand("stats", "show the cache's location, entries and size");
  auto* clear = app.add_subcommand("clear", "delete every cached response");
  for (auto* sub : {stats, clear}) sub->add_option("--cache", path, "cache file");
  std::vector<std::string> rev(args.rbegin(), args.rend() - 1);
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (path.empty()) path = ResponseCache::default_path();
  if (stats->parsed()) {
    if (!std::filesystem::exists(path)) {
      std::printf("cache: %s\nentries: 0 (no cache file yet)\n", path.c_str());
      return 0;
    }
    ResponseCache cache(path);
    auto s = cache.stats();
    std::printf("cache: %s\nentries: %lld\nresponse bytes: %lld\nfile bytes: %lld\n", path.c_str(),
                static_cast<long long>(s.entries), static_cast<long long>(s.value_bytes),
                static_cast<long long>(s.file_bytes));
    return 0;
  }
  if (!std::filesystem::exists(path)) {
    std::printf("cache: %s is empty (no cache file)\n", path.c_str());
    return 0;
  }
  ResponseCache cache(path);
  int64_t n = cache.clear();
  std::printf("removed %lld cached responses from %s\n", static_cast<long long>(n), path.c_str());
  return 0;
}

}  // namespace retort::cli
