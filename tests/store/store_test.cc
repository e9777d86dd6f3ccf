// The results store against SQLite and a real PostgreSQL server (started by the test on a
// temporary data directory; skipped with the reason when it cannot start).
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "store/sql.h"
#include "store/store.h"
#include "support/pg_server.h"
#include "support/test_support.h"
#include "util/error.h"

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

// A database of schema version 1 (no runs.plan; samples a plain table with a primary-key
// index) is migrated on open and keeps its runs, samples included.
TEST_P(StoreTest, AVersion1DatabaseIsMigratedAndKeepsItsRuns) {
  {
    auto s = ResultsStore::open(location_);
    s->record(make_run("r1", "model-a", 1000.0, 0.5));
  }
  {
    auto db = GetParam() == "sqlite" ? open_sqlite(location_) : open_postgres(location_);
    db->exec("ALTER TABLE runs DROP COLUMN plan");
    if (GetParam() == "sqlite") {  // version 1's samples table, with the rows it had
      db->exec(
          "CREATE TABLE samples_v1 (run_id TEXT NOT NULL, task TEXT NOT NULL, filter TEXT NOT "
          "NULL, doc_id BIGINT NOT NULL, doc_hash TEXT, prompt_hash TEXT, target TEXT, prompt "
          "TEXT, response TEXT, thinking_chars BIGINT, extracted TEXT, verdict DOUBLE PRECISION, "
          "metrics TEXT, finish_reason TEXT, failed INTEGER, PRIMARY KEY (run_id, task, filter, "
          "doc_id)); INSERT INTO samples_v1 SELECT * FROM samples; DROP TABLE samples; "
          "ALTER TABLE samples_v1 RENAME TO samples");
      EXPECT_TRUE(db->query("SELECT 1 FROM sqlite_schema WHERE name = 'samples' AND sql LIKE "
                            "'%WITHOUT ROWID%'",
                            {})
                      .empty());
    }
    db->exec("DELETE FROM retort_schema WHERE version >= 2");
  }
  auto s = ResultsStore::open(location_);
  EXPECT_EQ(s->schema_version(), kSchemaVersion);
  StoredRun old = s->load("r1", true);
  EXPECT_EQ(old.model, "model-a");
  EXPECT_TRUE(old.plan.empty());
  ASSERT_EQ(old.tasks.at(0).samples.size(), 4u);
  EXPECT_EQ(old.tasks[0].samples[2].prompt, "Q: 2\nA:");
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
