// The results store against SQLite and a real PostgreSQL server (started by the test on a
// temporary data directory; skipped with the reason when it cannot start).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "store/sql.h"
#include "store/store.h"
#include "support/pg_server.h"
#include "support/test_support.h"
#include "util/error.h"
#include "util/hash.h"

namespace retort::store {
namespace {

using retort::testing::PgServer;
using retort::testing::TempDir;

// Text that has broken naive stores: COPY's escapes, quotes, NUL, invalid UTF-8, HTML.
const std::string kNasty = std::string("tab\there\nnewline \\N back\\slash 'q' \"dq\" ") +
                           std::string("nul\0byte ", 9) +
                           "bad\xff\xfe utf8 ü 漢字 <script>x</script>";

StoredRun make_run(const std::string& id, const std::string& model, double started, double acc,
                   int docs = 4) {
  StoredRun r;
  r.id = id;
  r.model = model;
  r.model_source = "hosted_vllm/" + model;
  r.endpoint = "http://127.0.0.1:8000/v1";
  r.started = started;
  r.duration_s = 12.5;
  r.config = Json{{"model", "x"}, {"limit", 4}};
  r.versions = Json{{"retort", "0.1.0"}};
  r.stats = Json{{"total", docs}, {"succeeded", docs}};
  StoredTask t;
  t.name = "arith";
  t.alias = "arith";
  t.version = "1.0";
  t.eval_version = "abcdef012345-s1";
  t.n_samples = docs;
  t.n_original = 10;
  t.metrics.push_back(StoredMetric{"exact_match", "strict-match", acc, 0.25, docs, true});
  t.metrics.push_back(StoredMetric{"exact_match", "flexible", acc, std::nullopt, docs, true});
  for (int i = 0; i < docs; ++i) {
    StoredSample s;
    s.doc_id = i;
    s.filter = "strict-match";
    s.prompt_hash = "p" + std::to_string(i);
    s.doc_hash = "d" + std::to_string(i);
    s.target = std::to_string(i);
    s.prompt = "Q: " + std::to_string(i) + "\nA:";
    s.thinking_chars = 10 * i;
    s.response = i == 0 ? kNasty : "The answer is " + std::to_string(i);
    s.extracted = std::to_string(i);
    s.verdict = i % 2;
    s.metrics = Json{{"exact_match", i % 2}};
    s.finish_reason = "stop";
    t.samples.push_back(s);
  }
  r.tasks.push_back(t);
  StoredTask g;
  g.name = "math_group";
  g.kind = "group";
  g.subtasks = {"arith"};
  g.metrics.push_back(StoredMetric{"exact_match", "strict-match", acc, 0.25, docs, true});
  r.tasks.push_back(g);
  return r;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      location_ = dir_.file("sub/dir/runs.db");
    } else {
      PgServer& pg = PgServer::shared();
      if (!pg.ok()) GTEST_SKIP() << "PostgreSQL tests skipped: " << pg.why();
      location_ = pg.fresh_database();
      ASSERT_FALSE(location_.empty()) << "createdb failed";
    }
  }
  TempDir dir_;
  std::string location_;
};

TEST_P(StoreTest, RecordsARunAndReadsItBackExactly) {
  auto s = ResultsStore::open(location_);
  EXPECT_EQ(s->schema_version(), kSchemaVersion);
  StoredRun in = make_run("20260101-000000-aaaa", "model-a", 1000.0, 0.5);
  s->record(in);
  StoredRun out = s->load("20260101-000000-aaaa", true);
  EXPECT_EQ(out.model, "model-a");
  EXPECT_EQ(out.model_source, "hosted_vllm/model-a");
  EXPECT_EQ(out.status, "complete");
  EXPECT_DOUBLE_EQ(out.started, 1000.0);
  EXPECT_DOUBLE_EQ(out.duration_s, 12.5);
  EXPECT_EQ(out.config["limit"], Json(4));
  EXPECT_EQ(out.stats["total"], Json(4));
  ASSERT_EQ(out.tasks.size(), 2u);
  const StoredTask& t = out.tasks[0];
  EXPECT_EQ(t.name, "arith");
  EXPECT_EQ(t.eval_version, "abcdef012345-s1");
  EXPECT_EQ(t.n_original, 10);
  ASSERT_EQ(t.metrics.size(), 2u);  // in the task's order, primary first
  EXPECT_EQ(t.metrics[0].filter, "strict-match");
  EXPECT_EQ(t.metrics[0].stderr_value, std::optional<double>(0.25));
  EXPECT_EQ(t.metrics[1].stderr_value, std::nullopt);
  EXPECT_EQ(t.metrics[0].n, 4);
  ASSERT_EQ(t.samples.size(), 4u);
  EXPECT_EQ(t.samples[1].response, "The answer is 1");
  EXPECT_EQ(t.samples[1].verdict, std::optional<double>(1.0));
  EXPECT_EQ(t.samples[3].metrics["exact_match"], Json(1));
  EXPECT_EQ(t.samples[2].prompt_hash, "p2");
  EXPECT_EQ(t.samples[2].prompt, "Q: 2\nA:");
  EXPECT_EQ(t.samples[3].thinking_chars, 30);
  // The nasty text comes back as valid UTF-8 without the NUL, everything else intact.
  const std::string& nasty = t.samples[0].response;
  EXPECT_NE(nasty.find("tab\there\nnewline \\N back\\slash 'q' \"dq\" nulbyte bad"),
            std::string::npos)
      << nasty;
  EXPECT_NE(nasty.find("ü 漢字 <script>x</script>"), std::string::npos);
  EXPECT_EQ(nasty.find('\0'), std::string::npos);
  EXPECT_EQ(out.tasks[1].kind, "group");
  EXPECT_EQ(out.tasks[1].subtasks, std::vector<std::string>{"arith"});

  // Without samples: same tasks and metrics, no samples.
  StoredRun light = s->load(in.id, false);
  EXPECT_TRUE(light.tasks[0].samples.empty());
  EXPECT_EQ(light.tasks[0].metrics.size(), 2u);
}

// Each sample comes back whole, in its own task, however many tasks and filters a run has
// (load() moves each row's texts into its sample: nothing may be read twice or land in the
// wrong task).
TEST_P(StoreTest, EverySampleFieldComesBackInItsOwnTask) {
  StoredRun in = make_run("20260101-000000-cccc", "m", 1000.0, 0.5, 3);
  StoredTask second = in.tasks[0];
  second.name = "second";
  second.samples.clear();
  for (int i = 0; i < 5; ++i) {
    for (const char* filter : {"a-filter", "b-filter"}) {
      StoredSample s;
      s.doc_id = 100 + i;
      s.filter = filter;
      s.doc_hash = fmt::format("doc-{}-{}", i, filter);
      s.prompt_hash = fmt::format("prompt-{}", i);
      s.target = fmt::format("target {}", i);
      s.prompt = fmt::format("prompt text {}", i);
      s.response = fmt::format("response {} {}", i, filter);
      s.extracted = fmt::format("extracted {}", i);
      s.thinking_chars = i;
      s.verdict = i % 2;
      s.metrics = Json{{"exact_match", i % 2}, {"other", {1, 0.5}}};
      s.finish_reason = i == 4 ? "length" : "stop";
      s.failed = i == 3;
      second.samples.push_back(s);
    }
  }
  in.tasks.push_back(second);
  auto store = ResultsStore::open(location_);
  store->record(in);
  StoredRun out = store->load(in.id, true);
  ASSERT_EQ(out.tasks.size(), 3u);
  EXPECT_EQ(out.tasks[0].name, "arith");
  ASSERT_EQ(out.tasks[0].samples.size(), 3u);
  EXPECT_EQ(out.tasks[0].samples[2].response, "The answer is 2");
  EXPECT_TRUE(out.tasks[1].samples.empty());  // the group
  const StoredTask& t = out.tasks[2];
  EXPECT_EQ(t.name, "second");
  ASSERT_EQ(t.samples.size(), 10u);
  for (const StoredSample& s : t.samples) {  // stored order: filter, then doc
    int i = static_cast<int>(s.doc_id - 100);
    const std::string filter = &s - &t.samples[0] < 5 ? "a-filter" : "b-filter";
    SCOPED_TRACE(fmt::format("doc {} {}", s.doc_id, s.filter));
    EXPECT_EQ(s.filter, filter);
    EXPECT_EQ(s.doc_hash, fmt::format("doc-{}-{}", i, filter));
    EXPECT_EQ(s.prompt_hash, fmt::format("prompt-{}", i));
    EXPECT_EQ(s.target, fmt::format("target {}", i));
    EXPECT_EQ(s.prompt, fmt::format("prompt text {}", i));
    EXPECT_EQ(s.response, fmt::format("response {} {}", i, filter));
    EXPECT_EQ(s.extracted, fmt::format("extracted {}", i));
    EXPECT_EQ(s.thinking_chars, i);
    EXPECT_EQ(s.verdict, std::optional<double>(i % 2));
    EXPECT_EQ(s.metrics, (Json{{"exact_match", i % 2}, {"other", {1, 0.5}}}));
    EXPECT_EQ(s.finish_reason, i == 4 ? "length" : "stop");
    EXPECT_EQ(s.failed, i == 3);
  }
  // Without texts (what compare and gate load): the same samples, pairing fields and
  // metrics intact, no prompt, response, target or extracted text.
  StoredRun bare = store->load(in.id, true, false);
  ASSERT_EQ(bare.tasks.size(), 3u);
  ASSERT_EQ(bare.tasks[2].samples.size(), 10u);
  for (size_t k = 0; k < 10; ++k) {
    const StoredSample& s = bare.tasks[2].samples[k];
    const StoredSample& full = t.samples[k];
    EXPECT_EQ(s.doc_id, full.doc_id);
    EXPECT_EQ(s.filter, full.filter);
    EXPECT_EQ(s.doc_hash, full.doc_hash);
    EXPECT_EQ(s.prompt_hash, full.prompt_hash);
    EXPECT_EQ(s.metrics, full.metrics);
    EXPECT_EQ(s.verdict, full.verdict);
    EXPECT_EQ(s.failed, full.failed);
    EXPECT_EQ(s.prompt, "");
    EXPECT_EQ(s.response, "");
    EXPECT_EQ(s.target, "");
    EXPECT_EQ(s.extracted, "");
  }
  ASSERT_EQ(bare.tasks[0].samples.size(), 3u);
  EXPECT_EQ(bare.tasks[0].samples[1].metrics["exact_match"], Json(1));
}

TEST_P(StoreTest, ListsResolvesAndRemovesRuns) {
  auto s = ResultsStore::open(location_);
  s->record(make_run("20260101-000000-aaaa", "model-a", 1000.0, 0.5));
  s->record(make_run("20260102-000000-bbbb", "model-b", 2000.0, 0.75));
  s->record(make_run("20260102-000000-bbbc", "model-b", 3000.0, 0.25));
  auto runs = s->list();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].id, "20260102-000000-bbbc");  // newest first
  EXPECT_EQ(runs[0].tasks, 1);                    // groups are not counted
  EXPECT_EQ(runs[0].samples, 4);
  EXPECT_EQ(s->list("model-a").size(), 1u);
  EXPECT_EQ(s->resolve("latest"), "20260102-000000-bbbc");
  EXPECT_EQ(s->resolve("latest~2"), "20260101-000000-aaaa");
  EXPECT_EQ(s->resolve("20260101"), "20260101-000000-aaaa");
  EXPECT_THROW(s->resolve("latest~3"), Error);
  try {
    s->resolve("20260102-000000-bb");
    ADD_FAILURE() << "an ambiguous prefix resolved";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("matches several runs"), std::string::npos) << e.message();
  }
  EXPECT_THROW(s->resolve("nope"), Error);
  // A prefix is not a pattern.
  EXPECT_THROW(s->resolve("2026010_"), Error);

  // Recording the same id again replaces it.
  s->record(make_run("20260101-000000-aaaa", "model-a", 1000.0, 1.0));
  EXPECT_EQ(s->list().size(), 3u);
  EXPECT_DOUBLE_EQ(s->load("20260101-000000-aaaa", false).tasks[0].metrics[0].value, 1.0);

  EXPECT_TRUE(s->remove("20260101-000000-aaaa"));
  EXPECT_FALSE(s->remove("20260101-000000-aaaa"));
  EXPECT_EQ(s->list().size(), 2u);
  EXPECT_THROW(s->load("20260101-000000-aaaa", true), Error);
}

TEST_P(StoreTest, LeaderboardTakesEachModelsLatestRun) {
  auto s = ResultsStore::open(location_);
  s->record(make_run("r1", "model-a", 1000.0, 0.5));
  s->record(make_run("r2", "model-a", 2000.0, 0.9));  // newer: wins
  s->record(make_run("r3", "model-b", 1500.0, 0.7));
  Leaderboard board = build_leaderboard(*s, {});
  ASSERT_EQ(board.rows.size(), 2u);
  EXPECT_EQ(board.rows[0].model, "model-a");
  EXPECT_DOUBLE_EQ(board.rows[0].cells["math_group"].value, 0.9);
  EXPECT_EQ(board.rows[0].cells["math_group"].run_id, "r2");
  // Without --tasks a group stands for its subtasks.
  EXPECT_EQ(board.tasks, std::vector<std::string>{"math_group"});
  Leaderboard by_task = build_leaderboard(*s, {"arith"});
  EXPECT_EQ(by_task.tasks, std::vector<std::string>{"arith"});
  EXPECT_EQ(format_leaderboard(by_task, "csv"),
            "model,mean,arith\nmodel-a,0.9,0.9\nmodel-b,0.7,0.7\n");
  std::string md = format_leaderboard(by_task, "md");
  EXPECT_NE(md.find("| 1 | model-a | 0.9000 | 0.9000 ± 0.2500 |"), std::string::npos) << md;
  Json j = Json::parse(format_leaderboard(by_task, "json"));
  EXPECT_EQ(j["rows"][1]["model"], "model-b");
  EXPECT_THROW(format_leaderboard(by_task, "xml"), Error);
}

TEST_P(StoreTest, ReopeningKeepsTheDataAndANewerSchemaIsRefused) {
  {
    auto s = ResultsStore::open(location_);
    s->record(make_run("r1", "model-a", 1000.0, 0.5));
  }
  {
    auto s = ResultsStore::open(location_);
    EXPECT_EQ(s->list().size(), 1u);
    EXPECT_EQ(s->schema_version(), kSchemaVersion);
  }
  {
    auto db = GetParam() == "sqlite" ? open_sqlite(location_) : open_postgres(location_);
    db->query("INSERT INTO retort_schema (version) VALUES ($1)", {"99"});
  }
  try {
    ResultsStore::open(location_);
    ADD_FAILURE() << "a newer schema was accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("schema version 99, newer than this retort knows (" +
                               std::to_string(kSchemaVersion) + ")"),
              std::string::npos)
        << e.message();
  }
}

// A database as an older retort left it: the tables of schema version 3 (or 1: no runs.plan,
// SQLite's samples a plain table with a primary-key index), written by hand, with run's rows
// in that version's form (run id and task name in every sample's key, hashes as hex text, the
// prompt in every row).
void create_old_schema(SqlDb& db, int version, bool sqlite) {
  db.exec(std::string("CREATE TABLE retort_schema (version INTEGER NOT NULL);"
                      "CREATE TABLE runs (id TEXT PRIMARY KEY, model TEXT NOT NULL, model_source "
                      "TEXT, endpoint TEXT, status TEXT NOT NULL, started DOUBLE PRECISION, "
                      "duration_s DOUBLE PRECISION, config TEXT, versions TEXT, stats TEXT") +
          (version >= 2 ? ", plan TEXT);" : ");") +
          "CREATE INDEX runs_model ON runs (model, started);"
          "CREATE TABLE tasks (run_id TEXT NOT NULL, task TEXT NOT NULL, kind TEXT NOT NULL, "
          "position INTEGER NOT NULL, alias TEXT, version TEXT, eval_version TEXT, num_fewshot "
          "INTEGER, n_samples BIGINT, n_original BIGINT, n_failed BIGINT, subtasks TEXT, "
          "PRIMARY KEY (run_id, task));"
          "CREATE TABLE metrics (run_id TEXT NOT NULL, task TEXT NOT NULL, position INTEGER NOT "
          "NULL, metric TEXT NOT NULL, filter TEXT NOT NULL, value DOUBLE PRECISION, stderr "
          "DOUBLE PRECISION, n BIGINT, higher_is_better INTEGER, PRIMARY KEY (run_id, task, "
          "metric, filter));"
          "CREATE TABLE samples (run_id TEXT NOT NULL, task TEXT NOT NULL, filter TEXT NOT "
          "NULL, doc_id BIGINT NOT NULL, doc_hash TEXT, prompt_hash TEXT, target TEXT, prompt "
          "TEXT, response TEXT, thinking_chars BIGINT, extracted TEXT, verdict DOUBLE "
          "PRECISION, metrics TEXT, finish_reason TEXT, failed INTEGER, PRIMARY KEY (run_id, "
          "task, filter, doc_id))" +
          (sqlite && version >= 3 ? " WITHOUT ROWID;" : ";"));
  for (int v = 1; v <= version; ++v)
    db.query("INSERT INTO retort_schema (version) VALUES ($1)", {std::to_string(v)});
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void write_old_run(SqlDb& db, const StoredRun& r, int version) {
  std::vector<SqlValue> run = {
      r.id,           r.model,           r.model_source,  r.endpoint,        r.status,
      num(r.started), num(r.duration_s), r.config.dump(), r.versions.dump(), r.stats.dump()};
  if (version >= 2) run.push_back(r.plan.dump());
  db.query(std::string("INSERT INTO runs (id, model, model_source, endpoint, status, started, "
                       "duration_s, config, versions, stats") +
               (version >= 2 ? ", plan) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                             : ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
           run);
  for (size_t ti = 0; ti < r.tasks.size(); ++ti) {
    const StoredTask& t = r.tasks[ti];
    db.query(
        "INSERT INTO tasks (run_id, task, kind, position, alias, version, eval_version, "
        "num_fewshot, n_samples, n_original, n_failed, subtasks) VALUES ($1, $2, $3, $4, $5, "
        "$6, $7, $8, $9, $10, $11, $12)",
        {r.id, t.name, t.kind, std::to_string(ti), t.alias, t.version, t.eval_version,
         std::to_string(t.num_fewshot), std::to_string(t.n_samples), std::to_string(t.n_original),
         std::to_string(t.n_failed), Json(t.subtasks).dump()});
    for (size_t mi = 0; mi < t.metrics.size(); ++mi) {
      const StoredMetric& m = t.metrics[mi];
      db.query(
          "INSERT INTO metrics (run_id, task, position, metric, filter, value, stderr, n, "
          "higher_is_better) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          {r.id, t.name, std::to_string(mi), m.metric, m.filter, num(m.value),
           m.stderr_value ? SqlValue(num(*m.stderr_value)) : std::nullopt, std::to_string(m.n),
           m.higher_is_better ? "1" : "0"});
    }
    for (const StoredSample& s : t.samples)
      db.query(
          "INSERT INTO samples (run_id, task, filter, doc_id, doc_hash, prompt_hash, target, "
          "prompt, response, thinking_chars, extracted, verdict, metrics, finish_reason, "
          "failed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
          {r.id, t.name, s.filter, std::to_string(s.doc_id), s.doc_hash, s.prompt_hash, s.target,
           s.prompt, s.response, std::to_string(s.thinking_chars), s.extracted,
           s.verdict ? SqlValue(num(*s.verdict)) : std::nullopt, s.metrics.dump(), s.finish_reason,
           s.failed ? "1" : "0"});
  }
}

// Clean text (what any version stores as it is) that has broken naive stores.
const std::string kAwkward =
    "tab\there\nnewline \\N back\\slash 'q' \"dq\" ü 漢字 <script>x</script>";

// A run whose samples have every kind of hash and prompt the store must keep apart: hashes
// of their own prompt (stored once, shared with other runs), a hash of another text, hashes
// that are no SHA-256 (a results file's, 31 and 32 characters long, upper-case hex), an empty
// prompt with a hash, no hashes, two filters per doc.
StoredRun varied_run(const std::string& id, double started) {
  StoredRun r = make_run(id, "model-" + id, started, 0.5, 0);
  r.plan = Json{{"tasks", {"arith"}}};
  StoredTask& t = r.tasks[0];
  const std::vector<std::string> prompts = {
      "Q: 1+1\nA:", kAwkward, R"([{"role":"user","content":"2+2?"}])", "Q: own\nA:", "", "Q: x\nA:",
      "Q: y",       "Q: z"};
  const std::vector<std::string> prompt_hashes = {sha256_hex(prompts[0]),
                                                  sha256_hex(prompts[1]),
                                                  sha256_hex(prompts[2]),
                                                  sha256_hex("not this text"),
                                                  sha256_hex("Q: empty"),
                                                  "p5",
                                                  "",
                                                  std::string(32, 'H')};
  const std::vector<std::string> doc_hashes = {
      sha256_hex("doc 0"),  sha256_hex("doc 1"),
      sha256_hex("doc 2"),  sha256_hex("doc 3"),
      sha256_hex("doc 4"),  "",
      std::string(31, 'h'), "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"};
  // In the order load() gives them: by filter, then doc.
  for (const char* filter : {"flexible", "strict-match"})
    for (size_t i = 0; i < prompts.size(); ++i) {
      StoredSample s;
      s.doc_id = static_cast<int64_t>(i);
      s.filter = filter;
      s.prompt = prompts[i];
      s.prompt_hash = prompt_hashes[i];
      s.doc_hash = doc_hashes[i];
      s.target = i == 2 ? R"(["a","b"])" : std::to_string(i);
      s.response = i == 1 ? kAwkward : "The answer is " + std::to_string(i);
      s.thinking_chars = static_cast<int64_t>(7 * i);
      s.extracted = filter[0] == 'f' ? "[invalid]" : std::to_string(i);
      // Docs 0, 1 and 7: the usual {first metric: 0.0 or 1.0}; the others must keep their
      // JSON (integers, lists, another metric, -0.0, a value 15 digits would round).
      if (i != 4) s.verdict = i == 3 ? 0.375 : i == 5 ? 0.5 : i == 6 ? 1.0 / 3 : 1.0 * (i % 2);
      s.metrics = i == 4   ? Json::object()
                  : i == 3 ? Json{{"exact_match", Json::array({0.25, 0.5})}, {"f1", 0.25}}
                  : i == 5 ? Json{{"f1", 0.5}}
                  : i == 6 ? Json{{"exact_match", 1.0 / 3}}
                  : i == 2 ? Json{{"exact_match", filter[0] == 'f' ? Json(0) : Json(-0.0)}}
                  : i == 7 ? Json{{"exact_match", 1.0}}
                           : Json{{"exact_match", 1.0 * (i % 2)}};
      s.finish_reason = i == 5 ? "error: HTTP 500" : "stop";
      s.failed = i == 5;
      t.samples.push_back(s);
    }
  t.n_samples = static_cast<int64_t>(prompts.size());
  return r;
}

void expect_same_run(const StoredRun& want, const StoredRun& got) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.model, want.model);
  EXPECT_EQ(got.model_source, want.model_source);
  EXPECT_EQ(got.endpoint, want.endpoint);
  EXPECT_EQ(got.status, want.status);
  EXPECT_DOUBLE_EQ(got.started, want.started);
  EXPECT_DOUBLE_EQ(got.duration_s, want.duration_s);
  EXPECT_EQ(got.config, want.config);
  EXPECT_EQ(got.versions, want.versions);
  EXPECT_EQ(got.stats, want.stats);
  EXPECT_EQ(got.plan, want.plan);
  ASSERT_EQ(got.tasks.size(), want.tasks.size());
  for (size_t ti = 0; ti < want.tasks.size(); ++ti) {
    const StoredTask &a = want.tasks[ti], &b = got.tasks[ti];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.kind, a.kind);
    EXPECT_EQ(b.subtasks, a.subtasks);
    EXPECT_EQ(b.n_samples, a.n_samples);
    ASSERT_EQ(b.metrics.size(), a.metrics.size());
    for (size_t mi = 0; mi < a.metrics.size(); ++mi) {
      EXPECT_EQ(b.metrics[mi].metric, a.metrics[mi].metric);
      EXPECT_EQ(b.metrics[mi].filter, a.metrics[mi].filter);
      EXPECT_EQ(b.metrics[mi].stderr_value, a.metrics[mi].stderr_value);
    }
    ASSERT_EQ(b.samples.size(), a.samples.size()) << a.name;
    for (size_t i = 0; i < a.samples.size(); ++i) {
      const StoredSample &x = a.samples[i], &y = b.samples[i];
      SCOPED_TRACE(a.name + " sample " + std::to_string(i));
      EXPECT_EQ(y.doc_id, x.doc_id);
      EXPECT_EQ(y.filter, x.filter);
      EXPECT_EQ(y.doc_hash, x.doc_hash);
      EXPECT_EQ(y.prompt_hash, x.prompt_hash);
      EXPECT_EQ(y.target, x.target);
      EXPECT_EQ(y.prompt, x.prompt);
      EXPECT_EQ(y.response, x.response);
      EXPECT_EQ(y.thinking_chars, x.thinking_chars);
      EXPECT_EQ(y.extracted, x.extracted);
      // SQLite gives a REAL back as text with 15 significant digits (as every version did):
      // 1/3 returns within 1e-15, exact values exactly.
      ASSERT_EQ(y.verdict.has_value(), x.verdict.has_value());
      if (x.verdict) {
        EXPECT_NEAR(*y.verdict, *x.verdict, 1e-15);
      }
      EXPECT_EQ(y.metrics, x.metrics);
      EXPECT_EQ(y.metrics.dump(), x.metrics.dump());
      EXPECT_EQ(y.finish_reason, x.finish_reason);
      EXPECT_EQ(y.failed, x.failed);
    }
  }
}

int64_t count(SqlDb& db, const std::string& sql) {
  auto rows = db.query(sql, {});
  return rows.empty() || !rows[0][0] ? -1 : std::stoll(*rows[0][0]);
}

// A version 3 database is migrated on open: every field of every sample reads back as it
// did, the prompts that are their hash's own are stored once for both runs, and runs
// recorded after it get keys of their own.
TEST_P(StoreTest, AVersion3DatabaseIsMigratedAndReadsBackExactly) {
  const bool sqlite = GetParam() == "sqlite";
  StoredRun a = varied_run("r1", 1000.0), b = varied_run("r2", 2000.0);
  {
    auto db = sqlite ? open_sqlite(location_) : open_postgres(location_);
    create_old_schema(*db, 3, sqlite);
    write_old_run(*db, a, 3);
    write_old_run(*db, b, 3);
  }
  auto s = ResultsStore::open(location_);
  EXPECT_EQ(s->schema_version(), kSchemaVersion);
  expect_same_run(a, s->load("r1", true));
  expect_same_run(b, s->load("r2", true));
  {
    auto db = sqlite ? open_sqlite(location_) : open_postgres(location_);
    // Docs 0-2 have their own hash: one row each in prompts for both runs; docs 3-7 keep
    // their prompt in the row (doc 4's is empty).
    EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 3);
    EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM samples WHERE prompt IS NULL"), 2 * 2 * 3);
    EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM samples"), 2 * 2 * 8);
    EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM samples WHERE metrics IS NULL"), 2 * 2 * 3);
    // SHA-256 hashes (docs 0-4) take their 32 bytes.
    EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM samples WHERE length(doc_hash) = 32"), 2 * 2 * 5);
  }
  StoredRun c = varied_run("r3", 3000.0);
  s->record(c);
  expect_same_run(c, s->load("r3", true));
  expect_same_run(a, s->load("r1", true));
  EXPECT_EQ(s->list().size(), 3u);
}

// A database of schema version 1 (no runs.plan; samples a plain table with a primary-key
// index) is migrated on open and keeps its runs, samples included.
TEST_P(StoreTest, AVersion1DatabaseIsMigratedAndKeepsItsRuns) {
  {
    auto db = GetParam() == "sqlite" ? open_sqlite(location_) : open_postgres(location_);
    create_old_schema(*db, 1, GetParam() == "sqlite");
    write_old_run(*db, make_run("r1", "model-a", 1000.0, 0.5), 1);
  }
  auto s = ResultsStore::open(location_);
  EXPECT_EQ(s->schema_version(), kSchemaVersion);
  StoredRun old = s->load("r1", true);
  EXPECT_EQ(old.model, "model-a");
  EXPECT_TRUE(old.plan.empty());
  ASSERT_EQ(old.tasks.at(0).samples.size(), 4u);
  EXPECT_EQ(old.tasks[0].samples[2].prompt, "Q: 2\nA:");
  EXPECT_EQ(old.tasks[0].samples[2].prompt_hash, "p2");
  if (GetParam() == "sqlite") {
    auto db = open_sqlite(location_);
    EXPECT_FALSE(db->query("SELECT 1 FROM sqlite_schema WHERE name = 'samples' AND sql LIKE "
                           "'%WITHOUT ROWID%'",
                           {})
                     .empty());
  }
  StoredRun next = make_run("r2", "model-b", 2000.0, 0.25);
  next.plan = Json{{"tasks", {"t"}}, {"api_key", "sk-secret"}};
  s->record(next);
  StoredRun back = s->load("r2", false);
  EXPECT_EQ(back.plan["tasks"], Json::array({"t"}));
  EXPECT_FALSE(back.plan.contains("api_key")) << back.plan.dump();
}

// A prompt is stored once however many runs share it, only under its own hash, and goes
// with the last run that refers to it.
TEST_P(StoreTest, PromptsAreSharedByHashAndGoWithTheirLastRun) {
  auto s = ResultsStore::open(location_);
  auto db = GetParam() == "sqlite" ? open_sqlite(location_) : open_postgres(location_);
  const std::string text = "Q: shared\nA:", hash = sha256_hex(text);
  auto run_with = [&](const std::string& id, const std::string& prompt, const std::string& h) {
    StoredRun r = make_run(id, "m", 1000.0, 0.5, 1);
    r.tasks[0].samples[0].prompt = prompt;
    r.tasks[0].samples[0].prompt_hash = h;
    return r;
  };
  // A results file may give the hash without its text: that stands for nothing.
  s->record(run_with("imported", "", hash));
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 0);
  // Nor may a text take a hash that is not its own.
  s->record(run_with("claims", "Q: other\nA:", hash));
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 0);
  s->record(run_with("a", text, hash));
  s->record(run_with("b", text, hash));
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 1);
  EXPECT_EQ(s->load("imported", true).tasks[0].samples[0].prompt, "");
  EXPECT_EQ(s->load("claims", true).tasks[0].samples[0].prompt, "Q: other\nA:");
  EXPECT_EQ(s->load("a", true).tasks[0].samples[0].prompt, text);
  EXPECT_EQ(s->load("b", true).tasks[0].samples[0].prompt_hash, hash);
  EXPECT_TRUE(s->remove("a"));
  EXPECT_EQ(s->load("b", true).tasks[0].samples[0].prompt, text);
  // Replacing the last run that has it with one that does not drops it.
  s->record(run_with("b", "Q: new\nA:", sha256_hex("Q: new\nA:")));
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 1);
  EXPECT_EQ(s->load("b", true).tasks[0].samples[0].prompt, "Q: new\nA:");
  EXPECT_TRUE(s->remove("b"));
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 0);
  EXPECT_EQ(s->load("imported", true).tasks[0].samples[0].prompt_hash, hash);

  // A run whose prompts are the set of a run before writes none; one whose set differs
  // writes what is missing; a set whose runs are gone is written again.
  auto two = [&](const std::string& id, const std::string& p0, const std::string& p1) {
    StoredRun r = make_run(id, "m", 1000.0, 0.5, 2);
    r.tasks[0].samples[0].prompt = p0;
    r.tasks[0].samples[0].prompt_hash = sha256_hex(p0);
    r.tasks[0].samples[1].prompt = p1;
    r.tasks[0].samples[1].prompt_hash = sha256_hex(p1);
    return r;
  };
  s->record(two("x", "P1", "P2"));
  s->record(two("y", "P2", "P1"));
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 2);
  s->record(two("z", "P1", "P3"));
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 3);
  EXPECT_EQ(s->load("z", true).tasks[0].samples[1].prompt, "P3");
  EXPECT_EQ(s->load("y", true).tasks[0].samples[0].prompt, "P2");
  EXPECT_TRUE(s->remove("x"));
  EXPECT_TRUE(s->remove("y"));
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 2);  // P1, P3 (z)
  s->record(two("w", "P1", "P2"));
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 3);
  EXPECT_EQ(s->load("w", true).tasks[0].samples[1].prompt, "P2");
}

// What `retort run` records: each prompt once, under the hash computed from it, for every
// filter of its sample; hashes read back as the lower-case hex report computes.
TEST_P(StoreTest, ARunResultStoresEachPromptOnce) {
  RunResult run;
  run.model_name = "m";
  run.start_time = 1700000000.0;
  TaskResult tr;
  tr.name = "t";
  tr.sample_len = 3;
  tr.metrics.push_back(MetricValue{"acc", "none", 0.5, 0.5, true});
  for (int i = 0; i < 3; ++i) {
    Sample smp;
    smp.doc_id = i;
    smp.doc = Json{{"q", i}};
    SampleRequest req;
    req.arguments = Json{{"arg_0", "Question " + std::to_string(i % 2) + "\nAnswer:"}};
    Response resp;
    resp.ok = true;
    resp.text = "answer " + std::to_string(i);
    req.responses.push_back(resp);
    smp.requests.push_back(req);
    for (const char* filter : {"none", "strict"}) {
      FilteredSample f;
      f.filter = filter;
      f.filtered_resps = Json::array({std::to_string(i)});
      f.metric_values = Json{{"acc", i % 2}};
      smp.filtered.push_back(f);
    }
    tr.samples.push_back(smp);
  }
  run.tasks.push_back(tr);
  auto s = ResultsStore::open(location_);
  std::string id = s->record(run, "http://h/v1", "complete");
  StoredRun want = stored_run_from(run, "http://h/v1", "complete", id);
  std::stable_sort(
      want.tasks[0].samples.begin(), want.tasks[0].samples.end(),
      [](const StoredSample& a, const StoredSample& b) { return a.filter < b.filter; });
  StoredRun got = s->load(id, true);
  want.versions = got.versions;
  expect_same_run(want, got);
  ASSERT_EQ(got.tasks[0].samples.size(), 6u);
  EXPECT_EQ(got.tasks[0].samples[0].prompt_hash, sha256_hex("Question 0\nAnswer:"));
  auto db = GetParam() == "sqlite" ? open_sqlite(location_) : open_postgres(location_);
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM prompts"), 2);
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM samples WHERE prompt IS NULL"), 6);
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::Values("sqlite", "postgresql"));

TEST(Store, ABadLocationIsOneClearError) {
  try {
    ResultsStore::open("/dev/null/not/here.db");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("/dev/null/not/here.db"), std::string::npos) << e.message();
    EXPECT_NE(e.what_failed().find("cannot open the results database ("), std::string::npos)
        << e.message();
    EXPECT_EQ(e.hint(), "pass --db PATH to use another file, or --no-db to record nothing");
  }
  try {
    ResultsStore::open("postgresql://someone:hunter2@127.0.0.1:1/x?connect_timeout=2");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("cannot connect"), std::string::npos) << e.message();
    EXPECT_EQ(e.message().find("hunter2"), std::string::npos) << e.message();
  }
}

TEST(Store, ASqliteFileHasWalAndSixteenKibPages) {
  TempDir dir;
  std::string path = dir.file("runs.db");
  ResultsStore::open(path)->record(make_run("r1", "m", 1000, 0.5));
  auto db = open_sqlite(path);
  EXPECT_EQ(db->query("PRAGMA journal_mode", {}).at(0).at(0), "wal");
  EXPECT_EQ(db->query("PRAGMA page_size", {}).at(0).at(0), "16384");
}

TEST(Store, TheDefaultDatabaseIsRetortDbElseUnderXdgDataHome) {
  auto keep = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  auto put = [](const char* name, const std::optional<std::string>& v) {
    if (v)
      setenv(name, v->c_str(), 1);
    else
      unsetenv(name);
  };
  const auto db = keep("RETORT_DB"), xdg = keep("XDG_DATA_HOME"), home = keep("HOME");
  put("RETORT_DB", std::nullopt);
  setenv("HOME", "/home/someone", 1);
  setenv("XDG_DATA_HOME", "/xdg/data", 1);
  EXPECT_EQ(default_db_location(), "/xdg/data/retort/runs.db");
  setenv("XDG_DATA_HOME", "not/absolute", 1);  // ignored, as the XDG spec says
  EXPECT_EQ(default_db_location(), "/home/someone/.local/share/retort/runs.db");
  setenv("RETORT_DB", "postgresql://h/db", 1);
  EXPECT_EQ(default_db_location(), "postgresql://h/db");
  put("RETORT_DB", db);
  put("XDG_DATA_HOME", xdg);
  put("HOME", home);
}

TEST(Store, RedactsDatabasePasswords) {
  EXPECT_EQ(redact_db_url("postgresql://u:pw@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(redact_db_url("host=h password=pw dbname=x"), "host=h password=*** dbname=x");
  EXPECT_EQ(redact_db_url("postgresql://h/db?password=pw&x=1"),
            "postgresql://h/db?password=***&x=1");
}

TEST(Store, ConvertsARunResultWithoutSecrets) {
  RunResult run;
  run.model_name = "m";
  run.model_source = "hosted_vllm/m";
  run.start_time = 1700000000.0;
  run.config = Json{{"model", "x"}, {"model_args", "base_url=http://h,api_key=sk-secret-123"}};
  TaskResult tr;
  tr.name = "t";
  tr.alias = "t";
  tr.sample_len = 2;
  tr.config = Json{{"task", "t"}, {"num_fewshot", 0}};
  tr.metrics.push_back(MetricValue{"acc", "none", 0.5, 0.5, true});
  for (int i = 0; i < 2; ++i) {
    Sample s;
    s.doc_id = i;
    s.doc = Json{{"q", i}};
    s.prompt_hash = "ph" + std::to_string(i);
    SampleRequest req;
    Response resp;
    resp.ok = true;
    resp.text = "answer " + std::to_string(i);
    resp.finish_reason = i ? "length" : "stop";
    req.responses.push_back(resp);
    s.requests.push_back(req);
    FilteredSample f;
    f.filter = "none";
    f.filtered_resps = Json::array({std::to_string(i)});
    f.metric_values = Json{{"acc", i}};
    s.filtered.push_back(f);
    tr.samples.push_back(s);
  }
  run.tasks.push_back(tr);
  StoredRun s = stored_run_from(run, "https://user:pw@api.example.com/v1?key=abc", "complete");
  EXPECT_EQ(s.endpoint, "https://api.example.com/v1");
  EXPECT_EQ(s.config.dump().find("sk-secret-123"), std::string::npos) << s.config.dump();
  EXPECT_EQ(s.id.size(), std::string("20231114-221320-abcd").size());
  EXPECT_EQ(s.id.substr(0, 15), "20231114-221320");
  ASSERT_EQ(s.tasks.size(), 1u);
  EXPECT_EQ(s.tasks[0].eval_version, eval_version(tr.config));
  EXPECT_NE(eval_version(tr.config), eval_version(Json{{"task", "t"}, {"num_fewshot", 5}}));
  ASSERT_EQ(s.tasks[0].samples.size(), 2u);
  const StoredSample& x = s.tasks[0].samples[1];
  EXPECT_EQ(x.response, "answer 1");
  EXPECT_EQ(x.extracted, "1");
  EXPECT_EQ(x.prompt_hash, "ph1");
  EXPECT_EQ(x.verdict, std::optional<double>(1.0));
  EXPECT_EQ(x.finish_reason, "length");
}

}  // namespace
}  // namespace retort::store
