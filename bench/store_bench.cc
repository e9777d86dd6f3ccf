// Results store throughput: record a run of N samples (default 100,000) into SQLite and,
// when --pg URL is given, PostgreSQL; then `compare` two such runs loaded back from SQLite.
// Each is timed against a baseline in the same process run:
//  - SQLite: the sqlite3 shell importing the same sample rows from CSV (`.import`);
//  - PostgreSQL: psql `\copy` of the same rows;
//  - compare: the sqlite3 shell computing the paired mean difference with one SQL join.
// Usage: store_bench [--n 100000] [--pg postgresql://...] [--dir /tmp]
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "store/compare.h"
#include "store/store.h"

using namespace retort;
using namespace retort::store;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

StoredRun synthetic(const std::string& id, int n, int shift) {
  StoredRun r;
  r.id = id;
  r.model = "bench-model-" + id;
  r.started = 1e9 + shift;
  StoredTask t;
  t.name = "bench";
  t.n_samples = n;
  t.metrics.push_back(StoredMetric{"exact_match", "strict-match", 0.5, 0.001, n, true});
  t.samples.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    StoredSample s;
    s.doc_id = i;
    s.filter = "strict-match";
    s.prompt_hash = fmt::format("{:064x}", static_cast<uint64_t>(i) * 2654435761u);
    s.doc_hash = s.prompt_hash;
    s.target = std::to_string(i % 97);
    s.prompt = fmt::format("Question {}: what is {} + {}? Answer:", i, i % 50, i % 47);
    s.response = fmt::format("Let me think step by step about problem {}. The answer is {}.", i,
                             (i + shift) % 97);
    s.extracted = std::to_string((i + shift) % 97);
    int ok = ((i * 7 + shift) % 10) < 6;
    s.verdict = ok;
    s.metrics = Json{{"exact_match", ok}};
    s.finish_reason = "stop";
    t.samples.push_back(std::move(s));
  }
  r.tasks.push_back(std::move(t));
  return r;
}

// The sample rows as CSV in the samples table's column order (for the shell baselines).
void write_csv(const StoredRun& r, const std::string& path) {
  std::ofstream f(path);
  for (const auto& s : r.tasks[0].samples)
    f << r.id << ",bench," << s.filter << "," << s.doc_id << "," << s.doc_hash << ","
      << s.prompt_hash << "," << s.target << ",\"" << s.prompt << "\",\"" << s.response
      << "\"," << s.thinking_chars << "," << s.extracted << ","
      << *s.verdict << ",\"{\"\"exact_match\"\":" << *s.verdict << "}\",stop,0\n";
}

double run_shell(const std::string& cmd) {
  double t0 = now_s();
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "baseline failed: %s\n", cmd.c_str());
  return now_s() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000;
  std::string pg, dir = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--n") n = std::atoi(argv[i + 1]);
    if (a == "--pg") pg = argv[i + 1];
    if (a == "--dir") dir = argv[i + 1];
  }
  dir += "/retort_store_bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StoredRun a = synthetic("A", n, 0), b = synthetic("B", n, 3);
  write_csv(a, dir + "/a.csv");

  // SQLite: retort's record() vs the sqlite3 shell importing the same rows.
  const std::string db = dir + "/runs.db";
  double t0 = now_s();
  {
    auto s = ResultsStore::open(db);
    s->record(a);
    s->record(b);
  }
  double ours = (now_s() - t0) / 2;
  // The baseline imports into a copy of the schema retort created (same indexes).
  const std::string base_db = dir + "/baseline.db";
  std::system(fmt::format("sqlite3 {} .schema > {}/schema.sql && sqlite3 {} < {}/schema.sql", db,
                          dir, base_db, dir)
                  .c_str());
  double shell = run_shell(
      fmt::format("sqlite3 {} '.mode csv' 'PRAGMA journal_mode=WAL;' 'PRAGMA synchronous=NORMAL;' "
                  "'.import {}/a.csv samples' > /dev/null",
                  base_db, dir));
  std::printf("sqlite   record %d samples: retort %.3f s, sqlite3 .import %.3f s, ratio %.2f\n", n,
              ours, shell, ours / shell);

  if (!pg.empty()) {
    t0 = now_s();
    {
      auto s = ResultsStore::open(pg);
      s->remove("A");
      s->record(a);
    }
    double pg_ours = now_s() - t0;
    double pg_shell =
        run_shell(fmt::format("psql -q '{}' -c 'DELETE FROM samples WHERE run_id = $$A$$' -c "
                              "\"\\copy samples FROM '{}/a.csv' WITH (FORMAT csv)\"",
                              pg, dir));
    std::printf("postgres record %d samples: retort %.3f s, psql \\copy %.3f s, ratio %.2f\n", n,
                pg_ours, pg_shell, pg_ours / pg_shell);
  }

  // compare: load both runs with samples and pair them, vs one SQL join in the shell.
  t0 = now_s();
  double diff = 0;
  {
    auto s = ResultsStore::open(db);
    StoredRun la = s->load("A", true), lb = s->load("B", true);
    auto cmp = compare_runs(la, lb, {});
    diff = cmp.at(0).metrics.at(0).stats.diff;
  }
  double cmp_ours = now_s() - t0;
  double cmp_shell = run_shell(fmt::format(
      "sqlite3 {} \"SELECT AVG(b.verdict - a.verdict) FROM samples a JOIN samples b ON "
      "b.run_id = 'B' AND b.task = a.task AND b.filter = a.filter AND b.doc_id = a.doc_id AND "
      "b.prompt_hash = a.prompt_hash WHERE a.run_id = 'A'\" > /dev/null",
      db));
  std::printf("compare  %d pairs: retort %.3f s (diff %+.4f), sqlite3 join %.3f s, ratio %.2f\n", n,
              cmp_ours, diff, cmp_shell, cmp_ours / cmp_shell);
  std::filesystem::remove_all(dir);
  return 0;
}
