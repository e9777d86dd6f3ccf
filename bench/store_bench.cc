// Results store throughput: record a run of N samples (default 100,000) into SQLite and,
// when --pg URL is given, PostgreSQL; then `compare` two such runs loaded back from SQLite.
// Each is timed against a baseline in the same process run:
//  - SQLite: the sqlite3 shell importing the same sample rows from CSV (`.import`);
//  - PostgreSQL: psql `\copy` of the same rows;
//  - compare: the sqlite3 shell computing the paired mean difference with one SQL join.
// Wall and CPU seconds (this process for retort, the child for the shell), medians of --reps.
// Usage: store_bench [--n 100000] [--reps 3] [--pg postgresql://...] [--dir /tmp]
#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/compare.h"
#include "store/store.h"
#include "util/hash.h"

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
    s.target = std::to_string(i % 97);
    s.prompt = fmt::format("Question {}: what is {} + {}? Answer:", i, i % 50, i % 47);
    // As `retort run` writes them: the prompt's own SHA-256 (stored once, in prompts), a
    // SHA-256 of the doc.
    s.prompt_hash = sha256_hex(s.prompt);
    s.doc_hash = sha256_hex(s.target + s.prompt);
    s.response = fmt::format("Let me think step by step about problem {}. The answer is {}.", i,
                             (i + shift) % 97);
    s.extracted = std::to_string((i + shift) % 97);
    double ok = ((i * 7 + shift) % 10) < 6 ? 1.0 : 0.0;  // exact_match's values are floats
    s.verdict = ok;
    s.metrics = Json{{"exact_match", ok}};
    s.finish_reason = "stop";
    t.samples.push_back(std::move(s));
  }
  r.tasks.push_back(std::move(t));
  return r;
}

// A finished run as the pipeline hands it to the store (what `retort run` records): n chat
// prompts (arg_0, JSON like the chat template's), one reply each, one filter, exact_match.
RunResult pipeline_run(int n, int shift) {
  RunResult run;
  run.model_name = "bench-model";
  run.start_time = 1e9 + shift;
  TaskResult t;
  t.name = "bench";
  t.alias = "bench";
  t.sample_len = n;
  t.metrics.push_back(MetricValue{"exact_match", "strict-match", 0.5, 0.001, true});
  t.samples.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Sample s;
    s.doc_id = i;
    s.doc = Json{{"question", fmt::format("What is {} plus {}? Think step by step.", i, i)},
                 {"answer", fmt::format("#### {}", 2 * i)}};
    s.target = std::to_string(2 * i);
    SampleRequest req;
    req.arguments =
        Json{{"arg_0", fmt::format(R"([{{"role":"user","content":"Question: What is {} plus {}? )"
                                   R"(Think step by step.\nAnswer:"}}])",
                                   i, i)},
             {"arg_1", Json{{"until", {"Question:"}}, {"max_gen_toks", 16}}}};
    Response resp;
    resp.ok = true;
    resp.text = fmt::format("The answer.\n#### {}", (i + shift) % 7);
    resp.finish_reason = "stop";
    req.responses.push_back(std::move(resp));
    s.requests.push_back(std::move(req));
    FilteredSample f;
    f.filter = "strict-match";
    f.filtered_resps = Json::array({std::to_string((i + shift) % 7)});
    f.metric_values = Json{{"exact_match", (i + shift) % 7 == 2 * i ? 1.0 : 0.0}};
    s.filtered.push_back(std::move(f));
    t.samples.push_back(std::move(s));
  }
  run.tasks.push_back(std::move(t));
  return run;
}

// The sample rows as CSV in the samples table's column order (for the shell baselines): run
// key 0 (no run has it), task 0, the hashes as hex text and the prompt in every row (what the
// shell can import; retort stores 32-byte hashes and each prompt once).
void write_csv(const StoredRun& r, const std::string& path) {
  std::ofstream f(path);
  for (const auto& s : r.tasks[0].samples)
    f << "0,0," << s.filter << "," << s.doc_id << "," << s.doc_hash << "," << s.prompt_hash << ","
      << s.target << ",\"" << s.prompt << "\",\"" << s.response << "\"," << s.thinking_chars << ","
      << s.extracted << "," << *s.verdict << ",\"{\"\"exact_match\"\":" << *s.verdict
      << "}\",stop,0\n";
}

struct Cost {
  double wall = 0, cpu = 0;  // seconds; cpu: user + system of this process or its children
};

double cpu_s(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

template <typename Fn>
Cost timed(Fn&& fn) {
  double w0 = now_s(), c0 = cpu_s(RUSAGE_SELF);
  fn();
  return Cost{now_s() - w0, cpu_s(RUSAGE_SELF) - c0};
}

Cost run_shell(const std::string& cmd) {
  double w0 = now_s(), c0 = cpu_s(RUSAGE_CHILDREN);
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "baseline failed: %s\n", cmd.c_str());
  return Cost{now_s() - w0, cpu_s(RUSAGE_CHILDREN) - c0};
}

void report(const char* what, Cost ours, const char* base_name, Cost base) {
  std::printf(
      "%-34s retort %7.3f s wall %7.3f s CPU | %s %7.3f s wall %7.3f s CPU | ratio wall %.2f, CPU "
      "%.2f\n",
      what, ours.wall, ours.cpu, base_name, base.wall, base.cpu, ours.wall / base.wall,
      ours.cpu / base.cpu);
}

Cost median(std::vector<Cost> v) {
  auto mid = [&](auto key) {
    std::vector<double> x;
    for (const auto& c : v) x.push_back(key(c));
    std::sort(x.begin(), x.end());
    return x[x.size() / 2];
  };
  return Cost{mid([](const Cost& c) { return c.wall; }), mid([](const Cost& c) { return c.cpu; })};
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000, reps = 3;
  std::string pg, dir = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--n") n = std::atoi(argv[i + 1]);
    if (a == "--reps") reps = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--pg") pg = argv[i + 1];
    if (a == "--dir") dir = argv[i + 1];
  }
  dir += "/retort_store_bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StoredRun a = synthetic("A", n, 0), b = synthetic("B", n, 3);
  write_csv(a, dir + "/a.csv");

  std::vector<Cost> rec, rec_base, pg_rec, pg_base, cmp, cmp_base, run_first, run_again;
  const RunResult run1 = pipeline_run(n, 0), run2 = pipeline_run(n, 1);
  double diff = 0;
  uintmax_t run_bytes = 0;
  for (int rep = 0; rep < reps; ++rep) {
    // SQLite: record() of run A into a new database vs the sqlite3 shell importing the same
    // rows from CSV into a new database with the schema retort created (same indexes).
    const std::string db = fmt::format("{}/runs{}.db", dir, rep);
    const std::string base_db = fmt::format("{}/baseline{}.db", dir, rep);
    // What `retort run` records, into a new database, then the same benchmark again (another
    // run of the same prompts) into that database.
    const std::string run_db = fmt::format("{}/pipeline{}.db", dir, rep);
    run_first.push_back(
        timed([&] { ResultsStore::open(run_db)->record(run1, "http://h/v1", "complete"); }));
    run_again.push_back(
        timed([&] { ResultsStore::open(run_db)->record(run2, "http://h/v1", "complete"); }));
    std::error_code ec;
    run_bytes = std::filesystem::file_size(run_db, ec);
    rec.push_back(timed([&] { ResultsStore::open(db)->record(a); }));
    ResultsStore::open(db)->record(b);
    std::system(fmt::format("sqlite3 {} .schema > {}/schema.sql && sqlite3 {} < {}/schema.sql", db,
                            dir, base_db, dir)
                    .c_str());
    rec_base.push_back(
        run_shell(fmt::format("sqlite3 {} '.mode csv' 'PRAGMA journal_mode=WAL;' "
                              "'PRAGMA synchronous=NORMAL;' '.import {}/a.csv samples' > /dev/null",
                              base_db, dir)));
    if (!pg.empty()) {
      // PostgreSQL: record() (COPY FROM STDIN) vs psql \copy of the same rows; the
      // server's CPU is in neither, so compare wall times.
      ResultsStore::open(pg)->remove("A");
      pg_rec.push_back(timed([&] { ResultsStore::open(pg)->record(a); }));
      std::system(
          fmt::format("psql -q '{}' -c 'DELETE FROM samples WHERE run_key = 0'", pg).c_str());
      pg_base.push_back(run_shell(fmt::format(
          "psql -q '{}' -c \"\\copy samples FROM '{}/a.csv' WITH (FORMAT csv)\"", pg, dir)));
      ResultsStore::open(pg)->remove("A");
      std::system(
          fmt::format("psql -q '{}' -c 'DELETE FROM samples WHERE run_key = 0'", pg).c_str());
    }
    // compare: load both runs with their samples, without their texts, and pair them (what
    // `retort compare A B` does) vs one SQL join in the shell computing only the mean
    // difference.
    cmp.push_back(timed([&] {
      auto s = ResultsStore::open(db);
      StoredRun la = s->load("A", true, false), lb = s->load("B", true, false);
      auto c = compare_runs(la, lb, {});
      diff = c.at(0).metrics.at(0).stats.diff;
    }));
    cmp_base.push_back(run_shell(fmt::format(
        "sqlite3 {} \"SELECT AVG(b.verdict - a.verdict) FROM runs ra JOIN runs rb ON rb.id = 'B' "
        "JOIN samples a ON a.run_key = ra.run_key JOIN samples b ON b.run_key = rb.run_key AND "
        "b.task = a.task AND b.filter = a.filter AND b.doc_id = a.doc_id AND b.prompt_hash = "
        "a.prompt_hash WHERE ra.id = 'A'\" > /dev/null",
        db)));
  }
  std::printf("%d samples per run, medians of %d\n", n, reps);
  auto cpu_only = [&](const char* what, Cost c) {
    std::printf("%-34s retort %7.3f s wall %7.3f s CPU (%.2f us CPU per sample)\n", what, c.wall,
                c.cpu, 1e6 * c.cpu / n);
  };
  cpu_only("sqlite record RunResult, new db", median(run_first));
  cpu_only("sqlite record RunResult, again", median(run_again));
  std::printf("%-34s %.0f bytes per sample (both runs)\n", "sqlite file", run_bytes / (2.0 * n));
  report("sqlite record", median(rec), "sqlite3 .import", median(rec_base));
  if (!pg.empty()) report("postgresql record", median(pg_rec), "psql \\copy", median(pg_base));
  report(fmt::format("compare (diff {:+.4f})", diff).c_str(), median(cmp), "sqlite3 join",
         median(cmp_base));
  std::filesystem::remove_all(dir);
  return 0;
}
