#include "store/store.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <random>
#include <set>

#include "report/report.h"
#include "scoring/scoring.h"
#include "store/sql.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json_writer.h"
#include "util/log.h"
#include "util/log_redact.h"
#include "util/strings.h"
#include "util/user_folders.h"

namespace retort::store {

namespace {

// Schema migrations: step i brings a database from version i to i+1. Statements are in the
// dialect SQLite and PostgreSQL share (TEXT, BIGINT, DOUBLE PRECISION, INTEGER), except where
// a step has a SQLite-only form (kSqliteMigrations).
const char* const kMigrations[] = {
    // 0 -> 1
    "CREATE TABLE runs ("
    " id TEXT PRIMARY KEY,"
    " model TEXT NOT NULL,"
    " model_source TEXT,"
    " endpoint TEXT,"
    " status TEXT NOT NULL,"
    " started DOUBLE PRECISION,"
    " duration_s DOUBLE PRECISION,"
    " config TEXT,"
    " versions TEXT,"
    " stats TEXT);"
    "CREATE INDEX runs_model ON runs (model, started);"
    "CREATE TABLE tasks ("
    " run_id TEXT NOT NULL,"
    " task TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " position INTEGER NOT NULL,"
    " alias TEXT,"
    " version TEXT,"
    " eval_version TEXT,"
    " num_fewshot INTEGER,"
    " n_samples BIGINT,"
    " n_original BIGINT,"
    " n_failed BIGINT,"
    " subtasks TEXT,"
    " PRIMARY KEY (run_id, task));"
    "CREATE TABLE metrics ("
    " run_id TEXT NOT NULL,"
    " task TEXT NOT NULL,"
    " position INTEGER NOT NULL,"
    " metric TEXT NOT NULL,"
    " filter TEXT NOT NULL,"
    " value DOUBLE PRECISION,"
    " stderr DOUBLE PRECISION,"
    " n BIGINT,"
    " higher_is_better INTEGER,"
    " PRIMARY KEY (run_id, task, metric, filter));"
    "CREATE TABLE samples ("
    " run_id TEXT NOT NULL,"
    " task TEXT NOT NULL,"
    " filter TEXT NOT NULL,"
    " doc_id BIGINT NOT NULL,"
    " doc_hash TEXT,"
    " prompt_hash TEXT,"
    " target TEXT,"
    " prompt TEXT,"
    " response TEXT,"
    " thinking_chars BIGINT,"
    " extracted TEXT,"
    " verdict DOUBLE PRECISION,"
    " metrics TEXT,"
    " finish_reason TEXT,"
    " failed INTEGER,"
    " PRIMARY KEY (run_id, task, filter, doc_id));",
    // 1 -> 2: how to plan the run again, for `retort rescore`.
    "ALTER TABLE runs ADD COLUMN plan TEXT;",
    // 2 -> 3: SQLite only (below); PostgreSQL keeps its heap table and primary-key index.
    "",
    // 3 -> 4: the compact sample row (PostgreSQL's form; SQLite's below). A run gets a small
    // integer key (from a sequence: two processes recording at once each draw their own), a
    // sample row is keyed by it and by its task's position instead of two texts, hashes are
    // stored as bytes (see stored_hash), and a prompt text whose hash is its own SHA-256 is
    // stored once, in prompts, for every row and every run that has it. The rows move over
    // in carry_v3_samples (C++: the same code that records a run, for both engines).
    "ALTER TABLE runs ADD COLUMN run_key BIGSERIAL;"
    "CREATE UNIQUE INDEX runs_run_key ON runs (run_key);"
    "ALTER TABLE samples RENAME TO samples_v3;"
    "ALTER TABLE samples_v3 RENAME CONSTRAINT samples_pkey TO samples_v3_pkey;"
    "CREATE TABLE samples ("
    " run_key BIGINT NOT NULL,"
    " task INTEGER NOT NULL,"
    " filter TEXT NOT NULL,"
    " doc_id BIGINT NOT NULL,"
    " doc_hash BYTEA,"
    " prompt_hash BYTEA,"
    " target TEXT,"
    " prompt TEXT,"
    " response TEXT,"
    " thinking_chars BIGINT,"
    " extracted TEXT,"
    " verdict DOUBLE PRECISION,"
    " metrics TEXT,"
    " finish_reason TEXT,"
    " failed INTEGER,"
    " PRIMARY KEY (run_key, task, filter, doc_id));"
    "CREATE TABLE prompts (hash BYTEA PRIMARY KEY, prompt TEXT NOT NULL);",
    // 4 -> 5: the set of a run's shared prompts (hex SHA-256 of their hashes in order), so
    // that a run with the same prompts as one before writes none (see write_samples).
    "ALTER TABLE runs ADD COLUMN prompt_set TEXT;"
    "CREATE INDEX runs_prompt_set ON runs (prompt_set);",
};
constexpr int kKnownVersion = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));
static_assert(kKnownVersion == kSchemaVersion);

// SQLite's form of a step, where it differs (nullptr: the shared one).
const char* sqlite_migration(int from) {
  // 2 -> 3: samples become a WITHOUT ROWID table clustered on its primary key, so recording
  // a sample inserts into one B-tree instead of two (the rows, then the key's index), with
  // no statement journal per row: about 15% less CPU per recorded sample.
  if (from == 2)
    return "CREATE TABLE samples_v3 ("
           " run_id TEXT NOT NULL,"
           " task TEXT NOT NULL,"
           " filter TEXT NOT NULL,"
           " doc_id BIGINT NOT NULL,"
           " doc_hash TEXT,"
           " prompt_hash TEXT,"
           " target TEXT,"
           " prompt TEXT,"
           " response TEXT,"
           " thinking_chars BIGINT,"
           " extracted TEXT,"
           " verdict DOUBLE PRECISION,"
           " metrics TEXT,"
           " finish_reason TEXT,"
           " failed INTEGER,"
           " PRIMARY KEY (run_id, task, filter, doc_id)) WITHOUT ROWID;"
           "INSERT INTO samples_v3 (run_id, task, filter, doc_id, doc_hash, prompt_hash, target,"
           " prompt, response, thinking_chars, extracted, verdict, metrics, finish_reason, failed)"
           " SELECT run_id, task, filter, doc_id, doc_hash, prompt_hash, target, prompt, response,"
           " thinking_chars, extracted, verdict, metrics, finish_reason, failed FROM samples;"
           "DROP TABLE samples;"
           "ALTER TABLE samples_v3 RENAME TO samples;";
  // 3 -> 4 (see kMigrations). SQLite has no sequence: a run's key is MAX + 1, taken inside
  // the recording transaction, which SQLite runs alone (BEGIN IMMEDIATE); the rowid of the
  // existing runs is a unique start.
  if (from == 3)
    return "ALTER TABLE runs ADD COLUMN run_key INTEGER;"
           "UPDATE runs SET run_key = rowid;"
           "CREATE UNIQUE INDEX runs_run_key ON runs (run_key);"
           "ALTER TABLE samples RENAME TO samples_v3;"
           "CREATE TABLE samples ("
           " run_key INTEGER NOT NULL,"
           " task INTEGER NOT NULL,"
           " filter TEXT NOT NULL,"
           " doc_id INTEGER NOT NULL,"
           " doc_hash BLOB,"
           " prompt_hash BLOB,"
           " target TEXT,"
           " prompt TEXT,"
           " response TEXT,"
           " thinking_chars INTEGER,"
           " extracted TEXT,"
           " verdict DOUBLE PRECISION,"
           " metrics TEXT,"
           " finish_reason TEXT,"
           " failed INTEGER,"
           " PRIMARY KEY (run_key, task, filter, doc_id)) WITHOUT ROWID;"
           "CREATE TABLE prompts (hash BLOB PRIMARY KEY, prompt TEXT NOT NULL) WITHOUT ROWID;";
  return nullptr;
}

void carry_v3_samples(SqlDb& db);

bool is_sqlite(const SqlDb& db) {
  return std::string_view(db.engine()) == "sqlite";
}

// The columns of a sample row, in the order SampleWriter writes them.
const std::vector<std::string> kSampleColumns = {
    "run_key",     "task",    "filter",  "doc_id",        "doc_hash",
    "prompt_hash", "target",  "prompt",  "response",      "thinking_chars",
    "extracted",   "verdict", "metrics", "finish_reason", "failed"};

// The value of each lower-case hex digit; 16 for every other byte. A table, not branches:
// the digits and letters of a hash come in random order (the branches were ~0.3 µs per
// sample, mispredicted).
constexpr std::array<unsigned char, 256> kLowerHex = [] {
  std::array<unsigned char, 256> t{};
  for (auto& v : t) v = 16;
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<unsigned char>(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = static_cast<unsigned char>(10 + c);
  return t;
}();

// A lower-case 64-hex SHA-256 as its 32 bytes, in buf (resized); false when h is not one.
bool sha256_bytes(std::string_view h, std::string& buf) {
  if (h.size() != 64) return false;
  buf.resize(32);
  char* out = buf.data();
  unsigned bad = 0;
  for (size_t i = 0; i < 32; ++i) {
    const unsigned hi = kLowerHex[static_cast<unsigned char>(h[2 * i])],
                   lo = kLowerHex[static_cast<unsigned char>(h[2 * i + 1])];
    bad |= hi | lo;
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return bad < 16;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A doc or prompt hash as stored (BLOB / BYTEA; empty = NULL): a lower-case 64-hex SHA-256,
// what retort and lm-eval write, as its 32 bytes; any other text (a results file's hashes are
// taken as they come) as a 0x00 byte and the text, or two 0x00 bytes where one would make 32
// bytes. A stored text holds no NUL, so reading back is unambiguous: 32 bytes are a hash, any
// other length is the text after its leading 0x00s (hash_from_hex).
std::string_view stored_hash(std::string_view hash, std::string& buf) {
  if (hash.empty()) return {};
  if (sha256_bytes(hash, buf)) return buf;
  buf.assign(hash.size() + 1 == 32 ? 2 : 1, '\0');
  buf += hash;
  return buf;
}

// The hash stored_hash() stored, from the hex text of the column (SqlDb::hex_of).
std::string hash_from_hex(const SqlValue& hex) {
  if (!hex || hex->empty()) return "";
  std::string out;
  if (hex->size() == 64) {
    out = *hex;
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }
  size_t i = 0;
  while (i + 1 < hex->size() && (*hex)[i] == '0' && (*hex)[i + 1] == '0') i += 2;
  for (; i + 1 < hex->size(); i += 2)
    out += static_cast<char>(hex_digit((*hex)[i]) << 4 | hex_digit((*hex)[i + 1]));
  return out;
}

std::string num(double v) {
  return fmt::format("{}", v);
}
double to_double(const SqlValue& v, double fallback = 0.0) {
  if (!v || v->empty()) return fallback;
  return std::strtod(v->c_str(), nullptr);
}
int64_t to_int(const SqlValue& v) {
  if (!v || v->empty()) return 0;
  return std::strtoll(v->c_str(), nullptr, 10);
}
std::string to_str(const SqlValue& v) {
  return v.value_or("");
}
Json to_json(const SqlValue& v, Json fallback) {
  if (!v || v->empty()) return fallback;
  try {
    return Json::parse(*v);
  } catch (const std::exception&) {
    return fallback;
  }
}

// Text that PostgreSQL accepts (valid UTF-8, no NUL) and that holds no registered secret.
std::string clean_text(std::string_view s) {
  std::string out;
  if (is_valid_utf8(s) && s.find('\0') == std::string_view::npos) {
    out = std::string(s);
  } else {
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
      if (c == 0) {
        ++i;
        continue;
      }
      if (len && i + len <= s.size() && is_valid_utf8(s.substr(i, len))) {
        out.append(s.substr(i, len));
        i += len;
      } else {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
      }
    }
  }
  log::redact_in_place(out);
  return out;
}

std::string json_text(const Json& j) {
  return clean_text(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

// A string held by j, or j as compact JSON in buf ("" for null): a view, no copy.
std::string_view plain_or_json(const Json& j, std::string& buf) {
  if (j.is_string()) return j.get_ref<const std::string&>();
  if (j.is_array() && j.size() == 1 && j[0].is_string()) return j[0].get_ref<const std::string&>();
  if (j.is_null()) return {};
  buf.clear();
  append_json(buf, j);
  return buf;
}

std::string plain_or_json(const Json& j) {
  std::string buf;
  return std::string(plain_or_json(j, buf));
}

std::optional<double> first_number(const Json& metric_values) {
  if (!metric_values.is_object() || metric_values.empty()) return std::nullopt;
  const Json& v = metric_values.begin().value();
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_array() && !v.empty()) {  // one value per repeat: their mean
    double sum = 0;
    for (const auto& x : v) {
      if (!x.is_number()) return std::nullopt;
      sum += x.get<double>();
    }
    return sum / static_cast<double>(v.size());
  }
  return std::nullopt;
}

std::string strip_url_credentials(const std::string& url) {
  // scheme://user:pass@host -> scheme://host; query parameters named like secrets dropped.
  std::string out = url;
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t host = scheme + 3;
    size_t at = out.find('@', host);
    size_t slash = out.find('/', host);
    if (at != std::string::npos && (slash == std::string::npos || at < slash))
      out.erase(host, at + 1 - host);
  }
  size_t q = out.find('?');
  if (q != std::string::npos) out.erase(q);
  log::redact_in_place(out);
  return out;
}

// Runs fn inside one transaction: committed when it returns, rolled back when it throws.
// SQLite's takes the write lock at once, so what fn reads (a run's key, MAX(run_key)) cannot
// change under it before it writes.
template <typename Fn>
void in_transaction(SqlDb& db, Fn&& fn) {
  db.exec(is_sqlite(db) ? "BEGIN IMMEDIATE" : "BEGIN");
  try {
    fn();
    db.exec("COMMIT");
  } catch (...) {
    try {
      db.exec("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

// Deletes the run with this id (inside the caller's transaction); false when there was none.
// Its prompts stay until drop_unused_prompts().
bool delete_run_rows(SqlDb& db, const std::string& id) {
  auto key = db.query("SELECT run_key FROM runs WHERE id = $1", {id});
  if (key.empty()) return false;
  // PostgreSQL: no run may start to share a prompt between this one's going and
  // drop_unused_prompts(): a recording transaction writes its prompts (ROW EXCLUSIVE) before
  // it commits, so it either waits for this lock or is waited for, and then its samples are
  // seen. SQLite runs one writer at a time.
  if (!is_sqlite(db)) db.exec("LOCK TABLE prompts IN EXCLUSIVE MODE");
  db.query("DELETE FROM samples WHERE run_key = $1", {key[0][0]});
  for (const char* sql : {"DELETE FROM metrics WHERE run_id = $1",
                          "DELETE FROM tasks WHERE run_id = $1", "DELETE FROM runs WHERE id = $1"})
    db.query(sql, {id});
  return true;
}

// Deletes the prompts no sample refers to any more (after a run was removed or replaced).
// It reads every sample's prompt_hash once (SQLite: NOT IN builds a temporary index of them;
// PostgreSQL: an anti-join), so it is kept for removals, not run after every recording.
void drop_unused_prompts(SqlDb& db) {
  db.exec(is_sqlite(db) ? "DELETE FROM prompts WHERE hash NOT IN (SELECT prompt_hash FROM samples "
                          "WHERE prompt IS NULL AND prompt_hash IS NOT NULL)"
                        : "DELETE FROM prompts p WHERE NOT EXISTS (SELECT 1 FROM samples s "
                          "WHERE s.prompt_hash = p.hash AND s.prompt IS NULL)");
}

}  // namespace

const StoredTask* StoredRun::task(const std::string& name) const {
  for (const auto& t : tasks)
    if (t.name == name) return &t;
  return nullptr;
}

std::string eval_version(const Json& task_config) {
  return retort::eval_version(task_config, kScorerVersion);
}

std::string new_run_id(double start_unix) {
  std::time_t t = static_cast<std::time_t>(start_unix);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  return fmt::format("{}-{:04x}", buf, rd() & 0xffff);
}

std::string default_db_location() {
  const char* env = std::getenv("RETORT_DB");
  if (env && *env) return env;
  std::string folder = user_data_folder();
  return (folder.empty() ? "./.local/share/retort" : folder) + "/runs.db";  // no HOME: here
}

namespace {

// The fields of one sample as stored, viewed in the run's memory (or in a SampleRowMaker's
// buffers): what record() writes and stored_run_from() copies into a StoredSample.
struct SampleRow {
  int64_t doc_id = 0;
  std::string_view filter, doc_hash, prompt_hash, target, prompt, response, extracted,
      finish_reason;
  int64_t thinking_chars = 0;
  std::optional<double> verdict;
  const Json* metrics = nullptr;  // null: none
  bool failed = false;
  // prompt_hash is known to be sha256_hex(prompt) (computed from it here): no need to check.
  bool prompt_hashed = false;
};

SampleRow row_of(const StoredSample& s) {
  return SampleRow{s.doc_id,  s.filter,   s.doc_hash,  s.prompt_hash,   s.target,
                   s.prompt,  s.response, s.extracted, s.finish_reason, s.thinking_chars,
                   s.verdict, &s.metrics, s.failed};
}

// Makes the rows of a pipeline Sample (one per filter) from the run's memory: texts the run
// already holds are viewed, the few that must be built (hashes, a JSON list of several
// responses) go to buffers reused from sample to sample.
class SampleRowMaker {
 public:
  // The fields every filter's row of s shares; valid until the next start().
  void start(const Sample& s) {
    r_ = SampleRow{};
    r_.doc_id = s.doc_id;
    if (s.doc_hash.empty()) {
      doc_hash_ = doc_hash(s.doc);
      r_.doc_hash = doc_hash_;
    } else {
      r_.doc_hash = s.doc_hash;
    }
    const Json* arg0 = nullptr;
    if (!s.requests.empty()) {
      const Json& args = s.requests[0].arguments;
      if (args.is_object()) {
        auto it = args.find("arg_0");
        if (it != args.end()) {
          arg0 = &*it;
          r_.prompt = plain_or_json(*it, prompt_);
        }
      }
    }
    if (s.prompt_hash.empty()) {
      prompt_hash_ = prompt_hash(s);
      r_.prompt_hash = prompt_hash_;
      // report's prompt_hash hashes a string arg_0 (or the one string of a list) as it is:
      // the very text stored as the prompt.
      r_.prompt_hashed =
          arg0 &&
          (arg0->is_string() || (arg0->is_array() && arg0->size() == 1 && (*arg0)[0].is_string()));
    } else {
      r_.prompt_hash = s.prompt_hash;
    }
    r_.target = plain_or_json(s.target, target_);
    size_t n_responses = 0;
    for (const auto& req : s.requests) n_responses += req.responses.size();
    std::string_view error;
    if (n_responses == 1 && s.requests[0].kind == RequestKind::kGenerate &&
        s.requests[0].responses.size() == 1) {
      // The common case, a single generated text: stored as it is, with no JSON between.
      const auto& r = s.requests[0].responses[0];
      if (!r.ok) error = r.error;
      r_.thinking_chars = static_cast<int64_t>(r.reasoning.size());
      r_.finish_reason = r.finish_reason;
      r_.response = r.text;
    } else {
      Json texts = Json::array();
      for (const auto& req : s.requests)
        for (const auto& r : req.responses) {
          if (!r.ok && error.empty()) error = r.error;
          r_.thinking_chars += static_cast<int64_t>(r.reasoning.size());
          if (req.kind == RequestKind::kGenerate)
            texts.push_back(r.text);
          else
            texts.push_back(Json::array({r.loglikelihood, r.is_greedy}));
          if (r_.finish_reason.empty()) r_.finish_reason = r.finish_reason;
        }
      if (texts.size() == 1 && texts[0].is_string()) {
        response_ = texts[0].get<std::string>();
      } else {
        response_.clear();
        append_json(response_, texts);
      }
      r_.response = response_;
    }
    r_.failed = s.failed;
    if (s.failed) {
      finish_ = "error: ";
      finish_ += error;
      r_.finish_reason = finish_;
    }
  }
  // The row of one filter of the sample given to start(); valid until the next call.
  const SampleRow& row(const FilteredSample& f) {
    r_.filter = f.filter;
    r_.extracted = plain_or_json(f.filtered_resps, extracted_);
    r_.metrics = f.metric_values.is_object() ? &f.metric_values : nullptr;
    r_.verdict = r_.metrics ? first_number(*r_.metrics) : std::nullopt;
    return r_;
  }

 private:
  SampleRow r_;
  std::string doc_hash_, prompt_hash_, target_, prompt_, response_, finish_, extracted_;
};

// Everything of a run but its samples.
StoredRun stored_run_head(const RunResult& run, const std::string& endpoint,
                          const std::string& status, const std::string& id) {
  StoredRun s;
  s.id = id.empty() ? new_run_id(run.start_time) : id;
  s.model = run.model_name;
  s.model_source = run.model_source;
  s.endpoint = strip_url_credentials(endpoint);
  s.status = status;
  s.started = run.start_time;
  s.duration_s = run.total_seconds;
  s.config = strip_secrets(run.config);
  s.versions = Json{{"retort", "0.1.0"}, {"scorer", kScorerVersion}};
  if (run.git_hash) s.versions["git"] = *run.git_hash;
  s.stats = stats_json(run.stats);
  s.plan = strip_secrets(run.plan);
  for (const auto& tr : run.tasks) {
    StoredTask t;
    t.name = tr.name;
    t.alias = tr.alias;
    t.version = tr.version.is_string() ? tr.version.get<std::string>() : tr.version.dump();
    t.eval_version = tr.eval_version.empty() ? eval_version(tr.config) : tr.eval_version;
    t.num_fewshot = tr.num_fewshot;
    t.n_samples = tr.sample_len;
    t.n_original = tr.original_len;
    t.n_failed = tr.failed_samples;
    for (const auto& m : tr.metrics)
      t.metrics.push_back(StoredMetric{m.metric, m.filter, m.value, m.stderr_value,
                                       tr.sample_len - tr.failed_samples, m.higher_is_better});
    s.tasks.push_back(std::move(t));
  }
  for (const auto& g : run.groups) {
    StoredTask t;
    t.name = g.name;
    t.kind = "group";
    t.alias = g.alias;
    t.version = g.version.is_null()     ? ""
                : g.version.is_string() ? g.version.get<std::string>()
                                        : g.version.dump();
    t.num_fewshot = g.num_fewshot;
    t.n_samples = g.sample_len;
    t.subtasks = g.subtasks;
    for (const auto& m : g.metrics)
      t.metrics.push_back(StoredMetric{m.metric, m.filter, m.value, m.stderr_value, g.sample_len,
                                       m.higher_is_better});
    s.tasks.push_back(std::move(t));
  }
  return s;
}

}  // namespace

StoredRun stored_run_from(const RunResult& run, const std::string& endpoint,
                          const std::string& status, const std::string& id) {
  StoredRun s = stored_run_head(run, endpoint, status, id);
  SampleRowMaker maker;
  for (size_t ti = 0; ti < run.tasks.size(); ++ti) {
    auto& out = s.tasks[ti].samples;
    for (const auto& sample : run.tasks[ti].samples) {
      maker.start(sample);
      for (const auto& f : sample.filtered) {
        const SampleRow& r = maker.row(f);
        StoredSample ss;
        ss.doc_id = r.doc_id;
        ss.filter = r.filter;
        ss.doc_hash = r.doc_hash;
        ss.prompt_hash = r.prompt_hash;
        ss.target = r.target;
        ss.prompt = r.prompt;
        ss.response = r.response;
        ss.thinking_chars = r.thinking_chars;
        ss.extracted = r.extracted;
        ss.verdict = r.verdict;
        if (r.metrics) ss.metrics = *r.metrics;
        ss.finish_reason = r.finish_reason;
        ss.failed = r.failed;
        out.push_back(std::move(ss));
      }
    }
  }
  return s;
}

StoredRun stored_run_from_results(const Json& results,
                                  const std::map<std::string, std::vector<Json>>& samples,
                                  const std::string& source) {
  StoredRun s;
  s.source = source;
  s.id = source;
  s.model = results.value("model_name", std::string());
  s.model_source = results.value("model_source", std::string());
  if (results.contains("config") && results["config"].is_object())
    s.config = strip_secrets(results["config"]);
  const Json* rt = results.contains("retort") ? &results["retort"] : nullptr;
  s.versions = Json::object();
  if (rt && rt->contains("version")) s.versions["retort"] = (*rt)["version"];
  if (results.contains("git_hash") && results["git_hash"].is_string())
    s.versions["git"] = results["git_hash"];
  if (rt && rt->contains("stats")) s.stats = (*rt)["stats"];
  if (rt && (*rt).value("complete", true) == false) s.status = "partial";
  if (results.contains("date") && results["date"].is_number())
    s.started = results["date"].get<double>();
  if (results.contains("total_evaluation_time_seconds")) {
    const Json& d = results["total_evaluation_time_seconds"];
    s.duration_s = d.is_string()   ? std::strtod(d.get<std::string>().c_str(), nullptr)
                   : d.is_number() ? d.get<double>()
                                   : 0.0;
  }
  const Json empty = Json::object();
  auto section = [&](const char* key) -> const Json& {
    return results.contains(key) && results[key].is_object() ? results[key] : empty;
  };
  const Json& subtasks = section("group_subtasks");
  const Json& versions = section("versions");
  const Json& configs = section("configs");
  const Json& n_samples = section("n-samples");
  const Json& higher = section("higher_is_better");
  const Json& n_shot = section("n-shot");
  if (!results.contains("results") || !results["results"].is_object())
    throw Error("no \"results\" object", source,
                "pass a results_*.json written by `retort run` or lm_eval");
  for (const auto& [name, entry] : results["results"].items()) {
    StoredTask t;
    t.name = name;
    t.alias = entry.value("alias", name);
    if (subtasks.contains(name) && !subtasks[name].empty()) {
      t.kind = "group";
      for (const auto& c : subtasks[name]) t.subtasks.push_back(c.get<std::string>());
    }
    if (versions.contains(name))
      t.version =
          versions[name].is_string() ? versions[name].get<std::string>() : versions[name].dump();
    if (rt && rt->contains("eval_versions") && (*rt)["eval_versions"].contains(name) &&
        (*rt)["eval_versions"][name].is_string())
      t.eval_version = (*rt)["eval_versions"][name].get<std::string>();
    else if (configs.contains(name))
      t.eval_version = eval_version(configs[name]);
    if (n_shot.contains(name) && n_shot[name].is_number_integer())
      t.num_fewshot = n_shot[name].get<int>();
    if (n_samples.contains(name)) {
      t.n_samples = n_samples[name].value("effective", int64_t{0});
      t.n_original = n_samples[name].value("original", int64_t{0});
    }
    if (rt && rt->contains("failed_samples") && (*rt)["failed_samples"].contains(name))
      t.n_failed = (*rt)["failed_samples"][name].get<int64_t>();
    // retort writes the scored docs as "effective" (failed ones left out); lm-eval has none.
    const int64_t scored = t.n_samples;
    t.n_samples += t.n_failed;
    for (const auto& [key, value] : entry.items()) {
      size_t comma = key.find(',');
      if (comma == std::string::npos || !value.is_number()) continue;
      std::string metric = key.substr(0, comma), filter = key.substr(comma + 1);
      if (ends_with(metric, "_stderr")) continue;
      StoredMetric m;
      m.metric = metric;
      m.filter = filter;
      m.value = value.get<double>();
      std::string se_key = metric + "_stderr," + filter;
      if (entry.contains(se_key) && entry[se_key].is_number())
        m.stderr_value = entry[se_key].get<double>();
      m.n = scored;
      if (higher.contains(name) && higher[name].contains(metric) &&
          higher[name][metric].is_boolean())
        m.higher_is_better = higher[name][metric].get<bool>();
      t.metrics.push_back(std::move(m));
    }
    auto it = samples.find(name);
    if (it != samples.end()) {
      for (const Json& rec : it->second) {
        StoredSample ss;
        ss.doc_id = rec.value("doc_id", int64_t{0});
        ss.filter = rec.value("filter", std::string("none"));
        ss.doc_hash = rec.value("doc_hash", std::string());
        ss.prompt_hash = rec.value("prompt_hash", std::string());
        if (rec.contains("target")) ss.target = plain_or_json(rec["target"]);
        if (rec.contains("arguments") && rec["arguments"].is_object() &&
            !rec["arguments"].empty()) {
          const Json& first = rec["arguments"].begin().value();
          if (first.is_object() && first.contains("arg_0"))
            ss.prompt = plain_or_json(first["arg_0"]);
        }
        if (rec.contains("resps")) {
          const Json& r = rec["resps"];
          ss.response = r.is_array() && r.size() == 1 && r[0].is_array() && r[0].size() == 1 &&
                                r[0][0].is_string()
                            ? r[0][0].get<std::string>()
                            : r.dump();
        }
        if (rec.contains("filtered_resps")) ss.extracted = plain_or_json(rec["filtered_resps"]);
        if (rec.contains("metrics") && rec["metrics"].is_array())
          for (const auto& m : rec["metrics"])
            if (m.is_string() && rec.contains(m.get<std::string>()))
              ss.metrics[m.get<std::string>()] = rec[m.get<std::string>()];
        ss.verdict = first_number(ss.metrics);
        if (rec.contains("retort") && rec["retort"].is_object())
          ss.failed = rec["retort"].value("failed", false);
        t.samples.push_back(std::move(ss));
      }
    }
    s.tasks.push_back(std::move(t));
  }
  return s;
}

// ---------------------------------------------------------------------------------------

std::unique_ptr<ResultsStore> ResultsStore::open(const std::string& location) {
  std::unique_ptr<SqlDb> db;
  if (starts_with(location, "postgresql://") || starts_with(location, "postgres://"))
    db = open_postgres(location);
  else
    db = open_sqlite(location);
  std::unique_ptr<ResultsStore> store(new ResultsStore(std::move(db)));
  store->migrate();
  return store;
}

ResultsStore::ResultsStore(std::unique_ptr<SqlDb> db) : db_(std::move(db)) {}
ResultsStore::~ResultsStore() = default;

const std::string& ResultsStore::where() const {
  return db_->where();
}
const char* ResultsStore::engine() const {
  return db_->engine();
}

int ResultsStore::schema_version() {
  auto rows = db_->query("SELECT MAX(version) FROM retort_schema", {});
  return rows.empty() ? 0 : static_cast<int>(to_int(rows[0][0]));
}

void ResultsStore::migrate() {
  db_->exec("CREATE TABLE IF NOT EXISTS retort_schema (version INTEGER NOT NULL)");
  int v = schema_version();
  if (v > kKnownVersion)
    throw Error(fmt::format("the results database has schema version {}, newer than this "
                            "retort knows ({})",
                            v, kKnownVersion),
                db_->where(), "use a newer retort, or pass --db PATH to use another database");
  if (v == kKnownVersion) return;
  in_transaction(*db_, [&] {
    // Re-read inside the transaction: another process may have migrated meanwhile.
    for (v = schema_version(); v < kKnownVersion; ++v) {
      const char* sql = is_sqlite(*db_) ? sqlite_migration(v) : nullptr;
      if (!sql) sql = kMigrations[v];
      if (*sql) db_->exec(sql);
      if (v == 3) carry_v3_samples(*db_);
      db_->query("INSERT INTO retort_schema (version) VALUES ($1)", {std::to_string(v + 1)});
    }
  });
}

namespace {

// Texts as the store keeps them (clean_text): the text itself when it already is clean (the
// common case: no copy), else a cleaned copy held until reset().
class TextCleaner {
 public:
  std::string_view operator()(std::string_view s) {
    if (is_valid_utf8(s) && s.find('\0') == std::string_view::npos && !log::may_need_redaction(s))
      return s;
    copies_.push_back(clean_text(s));
    return copies_.back();
  }
  void reset() { copies_.clear(); }

 private:
  std::deque<std::string> copies_;  // a deque: earlier views stay valid as it grows
};

// Writes sample rows: streamed into the sink from wherever they live, a prompt whose hash is
// its own (sha256) into prompts instead of into the row.
class SampleWriter {
 public:
  SampleWriter(RowSink& out, int64_t run_key) : out_(out), run_key_(run_key) {}
  // position: the task's in the run (tasks.position); metric: its first metric's name (as
  // stored in metrics), "" when it has none.
  void set_task(int64_t position, std::string_view metric) {
    task_ = position;
    metric_ = metric;
  }
  void write(const SampleRow& r) {
    out_.integer(run_key_);
    out_.integer(task_);
    out_.text(clean_(r.filter));
    out_.integer(r.doc_id);
    hash(r.doc_hash, doc_hash_);
    const bool sha256 = hash(r.prompt_hash, prompt_hash_);
    out_.text(clean_(r.target));
    std::string_view prompt = clean_(r.prompt);
    // The text goes to prompts only under its own hash (never an empty one, never one a
    // results file claims for it), so what a hash stands for never depends on who wrote it.
    // Hashed here from the text as it is in the run's memory: no check, and no copy.
    const bool own = r.prompt_hashed && prompt.data() == r.prompt.data();
    const bool shared = !prompt.empty() && sha256 && (own || sha256_hex(prompt) == r.prompt_hash);
    if (shared) {
      out_.null();
      // The filters of a sample come one after the other and share its prompt.
      if (prompt_hash_ != last_prompt_hash_) {
        Pending p;
        std::memcpy(p.hash.data(), prompt_hash_.data(), p.hash.size());
        p.size = prompt.size();
        if (own) {
          p.text = prompt.data();
        } else {
          p.offset = texts_.size();
          texts_.append(prompt);
        }
        pending_.push_back(p);
        last_prompt_hash_.assign(prompt_hash_);
      }
    } else {
      out_.text(prompt);
    }
    out_.text(clean_(r.response));
    out_.integer(r.thinking_chars);
    out_.text(clean_(r.extracted));
    out_.real(r.verdict);
    if (verdict_only(r)) {
      out_.null();
    } else {
      metrics_.clear();
      if (r.metrics && !r.metrics->empty())
        append_json(metrics_, *r.metrics);
      else
        metrics_ = "{}";
      out_.text(clean_(metrics_));
    }
    out_.text(clean_(r.finish_reason));
    out_.integer(r.failed ? 1 : 0);
    out_.end_row();
    clean_.reset();
  }

  // Room for the prompts of n samples (one each, at most), so the list is not regrown.
  void expect_samples(size_t n) { pending_.reserve(n); }

  // The set of prompts the rows written so far left to prompts: the hex SHA-256 of their
  // hashes in order, each once ("" when there are none). Sorts them for write_prompts().
  std::string prompt_set() {
    std::sort(pending_.begin(), pending_.end(),
              [](const Pending& a, const Pending& b) { return a.hash < b.hash; });
    pending_.erase(std::unique(pending_.begin(), pending_.end(),
                               [](const Pending& a, const Pending& b) { return a.hash == b.hash; }),
                   pending_.end());
    if (pending_.empty()) return "";
    // The digest of the hashes joined, fed one by one (no buffer of all of them).
    Sha256 sha;
    for (const Pending& p : pending_) sha.add(std::string_view(p.hash.data(), p.hash.size()));
    return sha.hex();
  }
  // Writes those prompts (after prompt_set()), in the order of their hashes: SQLite then
  // inserts (or finds) them walking its B-tree in order instead of at random places
  // (store_bench: ~10% less CPU for a run's first recording). Their texts were copied into
  // one buffer unless they are the run's own, since a row's text may be gone by now (a
  // cleaned copy, a reused buffer).
  void write_prompts(RowSink& prompts) {
    for (const Pending& p : pending_) {
      prompts.blob(std::string_view(p.hash.data(), p.hash.size()));
      prompts.text(p.text ? std::string_view(p.text, p.size)
                          : std::string_view(texts_).substr(p.offset, p.size));
      prompts.end_row();
    }
  }

 private:
  // Writes a hash column (stored_hash, its bytes in buf); true when h is a SHA-256's hex.
  bool hash(std::string_view h, std::string& buf) {
    if (sha256_bytes(h, buf)) {
      out_.blob(buf);
      return true;
    }
    std::string_view bytes = stored_hash(clean_(h), buf);
    if (bytes.empty())
      out_.null();
    else
      out_.blob(bytes);
    return false;
  }

  // Whether the row's metrics are exactly {task's first metric: 0.0 or 1.0}, the verdict of
  // the usual row (exact_match, acc), stored as NULL (load() builds it again from the
  // verdict) instead of ~20 bytes of JSON. Other values stay JSON: SQLite reads a REAL back
  // as text with 15 digits, and -0.0 would come back as 0.
  bool verdict_only(const SampleRow& r) const {
    if (!r.metrics || r.metrics->size() != 1 || !r.verdict || metric_.empty()) return false;
    auto it = r.metrics->begin();
    if (it.key() != metric_ || !it->is_number_float()) return false;
    const double m = it->get<double>(), v = *r.verdict;
    return m == v && (m == 1.0 || m == 0.0) && !std::signbit(m) && !std::signbit(v);
  }

  // A prompt to store: its hash and its text, in the run's memory (text) or in texts_ at
  // offset (one buffer for copies: a row's text may be gone by write_prompts()).
  struct Pending {
    std::array<char, 32> hash;
    const char* text = nullptr;
    size_t offset = 0, size = 0;
  };

  RowSink& out_;
  std::vector<Pending> pending_;
  std::string texts_;
  std::string_view metric_;
  int64_t run_key_, task_ = 0;
  TextCleaner clean_;
  std::string metrics_, doc_hash_, prompt_hash_, last_prompt_hash_;
};

// Writes the sample rows of a run whose key is run_key: samples(writer) calls set_task()
// and write() (inside the caller's transaction), then their prompts.
//
// A benchmark run again (another model, another day) has the same prompts as before: when
// another run kept in runs.prompt_set has exactly this run's set of shared prompts, they are
// all in prompts already (a prompt goes only when no sample refers to it, and that run's
// samples do), and nothing is written; else each is inserted unless already there.
// PostgreSQL: ROW EXCLUSIVE on prompts before that look-up makes a removal's
// drop_unused_prompts() (which takes EXCLUSIVE) either finish before it or wait for this
// transaction's samples. Migrated runs (record_set false) have no set.
template <typename Samples>
void write_samples(SqlDb& db, int64_t run_key, size_t expected, Samples&& samples,
                   bool record_set) {
  auto rows = db.insert("samples", kSampleColumns);
  SampleWriter writer(*rows, run_key);
  writer.expect_samples(expected);
  samples(writer);
  rows->finish();
  rows.reset();
  const std::string set = writer.prompt_set();
  if (set.empty()) return;
  if (!is_sqlite(db)) db.exec("LOCK TABLE prompts IN ROW EXCLUSIVE MODE");
  if (!record_set || db.query("SELECT 1 FROM runs WHERE prompt_set = $1 LIMIT 1", {set}).empty()) {
    auto prompts = db.insert_new("prompts", {"hash", "prompt"});
    writer.write_prompts(*prompts);
    prompts->finish();
  }
  if (record_set)
    db.query("UPDATE runs SET prompt_set = $1 WHERE run_key = $2", {set, std::to_string(run_key)});
}

// Migration 3 -> 4: moves every run's samples from samples_v3 (the version 3 row: run id and
// task name in the key, hashes as hex text, the prompt in every row) into the new samples
// and prompts tables through the writer that records runs, one run at a time, then drops
// samples_v3. Rows of a task the run does not have were never read back; they are left out.
void carry_v3_samples(SqlDb& db) {
  for (const auto& run : db.query("SELECT id, run_key FROM runs", {})) {
    std::map<std::string, std::pair<int64_t, std::string>> task;  // name -> position, metric
    for (const auto& t :
         db.query("SELECT t.task, t.position, (SELECT m.metric FROM metrics m WHERE m.run_id = "
                  "t.run_id AND m.task = t.task AND m.position = 0) FROM tasks t WHERE "
                  "t.run_id = $1",
                  {run[0]}))
      task[to_str(t[0])] = {to_int(t[1]), to_str(t[2])};
    auto rows = db.query(
        "SELECT task, filter, doc_id, doc_hash, prompt_hash, target, prompt, response, "
        "thinking_chars, extracted, verdict, metrics, finish_reason, failed FROM samples_v3 "
        "WHERE run_id = $1",
        {run[0]});
    write_samples(
        db, to_int(run[1]), rows.size(),
        [&](SampleWriter& writer) {
          StoredSample s;
          for (const auto& r : rows) {
            auto it = task.find(to_str(r[0]));
            if (it == task.end()) continue;
            s.filter = to_str(r[1]);
            s.doc_id = to_int(r[2]);
            s.doc_hash = to_str(r[3]);
            s.prompt_hash = to_str(r[4]);
            s.target = to_str(r[5]);
            s.prompt = to_str(r[6]);
            s.response = to_str(r[7]);
            s.thinking_chars = to_int(r[8]);
            s.extracted = to_str(r[9]);
            s.verdict = r[10] ? std::optional<double>(to_double(r[10])) : std::nullopt;
            s.metrics = to_json(r[11], Json::object());
            s.finish_reason = to_str(r[12]);
            s.failed = to_int(r[13]) != 0;
            writer.set_task(it->second.first, it->second.second);
            writer.write(row_of(s));
          }
        },
        false);
  }
  db.exec("DROP TABLE samples_v3");
}

// Records run (its samples aside) and, through samples(task index, writer), each task's
// samples, replacing a run with the same id, in one transaction.
template <typename Samples>
void write_run(SqlDb& db, const StoredRun& run, size_t expected_samples, Samples&& samples) {
  const std::string& id = run.id;
  in_transaction(db, [&] {
    const bool replaced = delete_run_rows(db, id);
    // The run's key: PostgreSQL's column draws it from its sequence; SQLite's is the next
    // one, read and written while this transaction holds the write lock.
    auto key = db.query(
        std::string("INSERT INTO runs (id, model, model_source, endpoint, status, started, "
                    "duration_s, config, versions, stats, plan") +
            (is_sqlite(db) ? ", run_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
                             "(SELECT COALESCE(MAX(run_key), 0) + 1 FROM runs))"
                           : ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)") +
            " RETURNING run_key",
        {id, clean_text(run.model), clean_text(run.model_source), clean_text(run.endpoint),
         run.status, num(run.started), num(run.duration_s), json_text(strip_secrets(run.config)),
         json_text(run.versions), json_text(run.stats), json_text(strip_secrets(run.plan))});
    if (key.empty() || !key[0][0]) throw Error("results database: no key for the run", db.where());
    auto tasks = db.insert(
        "tasks", {"run_id", "task", "kind", "position", "alias", "version", "eval_version",
                  "num_fewshot", "n_samples", "n_original", "n_failed", "subtasks"});
    for (size_t ti = 0; ti < run.tasks.size(); ++ti) {
      const StoredTask& t = run.tasks[ti];
      const std::string name = clean_text(t.name), alias = clean_text(t.alias),
                        version = clean_text(t.version), subtasks = json_text(Json(t.subtasks));
      tasks->text(id);
      tasks->text(name);
      tasks->text(t.kind);
      tasks->integer(static_cast<int64_t>(ti));
      tasks->text(alias);
      tasks->text(version);
      tasks->text(t.eval_version);
      tasks->integer(t.num_fewshot);
      tasks->integer(t.n_samples);
      tasks->integer(t.n_original);
      tasks->integer(t.n_failed);
      tasks->text(subtasks);
      tasks->end_row();
    }
    tasks->finish();
    tasks.reset();
    auto metrics = db.insert("metrics", {"run_id", "task", "position", "metric", "filter", "value",
                                         "stderr", "n", "higher_is_better"});
    std::vector<std::string> first_metric(run.tasks.size());  // as stored
    for (size_t ti = 0; ti < run.tasks.size(); ++ti) {
      const StoredTask& t = run.tasks[ti];
      const std::string name = clean_text(t.name);
      for (size_t mi = 0; mi < t.metrics.size(); ++mi) {
        const StoredMetric& m = t.metrics[mi];
        const std::string metric = clean_text(m.metric), filter = clean_text(m.filter);
        if (mi == 0) first_metric[ti] = metric;
        metrics->text(id);
        metrics->text(name);
        metrics->integer(static_cast<int64_t>(mi));
        metrics->text(metric);
        metrics->text(filter);
        metrics->real(m.value);
        metrics->real(m.stderr_value);
        metrics->integer(m.n);
        metrics->integer(m.higher_is_better ? 1 : 0);
        metrics->end_row();
      }
    }
    metrics->finish();
    metrics.reset();
    write_samples(
        db, to_int(key[0][0]), expected_samples,
        [&](SampleWriter& writer) {
          for (size_t ti = 0; ti < run.tasks.size(); ++ti) {
            writer.set_task(static_cast<int64_t>(ti), first_metric[ti]);
            samples(ti, writer);
          }
        },
        true);
    if (replaced) drop_unused_prompts(db);
  });
}

// The samples of a run's tasks, for the writer to make room for their prompts.
template <typename Tasks>
size_t sample_count(const Tasks& tasks) {
  size_t n = 0;
  for (const auto& t : tasks) n += t.samples.size();
  return n;
}

}  // namespace

std::string ResultsStore::record(const StoredRun& run) {
  write_run(*db_, run, sample_count(run.tasks), [&](size_t ti, SampleWriter& w) {
    for (const StoredSample& s : run.tasks[ti].samples) w.write(row_of(s));
  });
  return run.id;
}

std::string ResultsStore::record(const RunResult& run, const std::string& endpoint,
                                 const std::string& status) {
  const StoredRun head = stored_run_head(run, endpoint, status, "");
  SampleRowMaker maker;
  write_run(*db_, head, sample_count(run.tasks), [&](size_t ti, SampleWriter& w) {
    if (ti >= run.tasks.size()) return;  // groups have no samples
    for (const Sample& sample : run.tasks[ti].samples) {
      maker.start(sample);
      for (const auto& f : sample.filtered) w.write(maker.row(f));
    }
  });
  return head.id;
}

std::vector<RunSummary> ResultsStore::list(const std::string& model, size_t limit) {
  std::string sql =
      "SELECT r.id, r.model, r.status, r.started, r.duration_s, "
      "(SELECT COUNT(*) FROM tasks t WHERE t.run_id = r.id AND t.kind = 'task'), "
      "(SELECT COALESCE(SUM(t.n_samples), 0) FROM tasks t WHERE t.run_id = r.id AND "
      "t.kind = 'task') FROM runs r";
  std::vector<SqlValue> params;
  if (!model.empty()) {
    sql += " WHERE r.model LIKE $1";
    params.push_back("%" + model + "%");
  }
  sql += " ORDER BY r.started DESC, r.id DESC";
  if (limit) sql += " LIMIT " + std::to_string(limit);
  std::vector<RunSummary> out;
  for (const auto& row : db_->query(sql, params)) {
    RunSummary s;
    s.id = to_str(row[0]);
    s.model = to_str(row[1]);
    s.status = to_str(row[2]);
    s.started = to_double(row[3]);
    s.duration_s = to_double(row[4]);
    s.tasks = to_int(row[5]);
    s.samples = to_int(row[6]);
    out.push_back(std::move(s));
  }
  return out;
}

std::string ResultsStore::resolve(const std::string& ref) {
  const std::string hint = "`retort runs list` shows the run ids";
  if (ref == "latest" || starts_with(ref, "latest~")) {
    size_t back = 0;
    if (ref.size() > 7) {
      char* end = nullptr;
      long n = std::strtol(ref.c_str() + 7, &end, 10);
      if (*end || n < 0)
        throw Error("'" + ref + "' is not a run reference", db_->where(),
                    "use latest, latest~1, latest~2, ... or a run id");
      back = static_cast<size_t>(n);
    }
    auto runs = list("", back + 1);
    if (runs.size() <= back)
      throw Error(fmt::format("'{}': the database holds {} run(s)", ref, runs.size()), db_->where(),
                  hint);
    return runs[back].id;
  }
  auto exact = db_->query("SELECT id FROM runs WHERE id = $1", {ref});
  if (!exact.empty()) return ref;
  std::string escaped;
  for (char c : ref) {
    if (c == '%' || c == '_' || c == '\\') escaped += '\\';
    escaped += c;
  }
  auto rows =
      db_->query("SELECT id FROM runs WHERE id LIKE $1 ESCAPE '\\' ORDER BY started DESC LIMIT 6",
                 {escaped + "%"});
  if (rows.size() == 1) return to_str(rows[0][0]);
  if (rows.empty()) throw Error("no run '" + ref + "'", db_->where(), hint);
  std::string ids;
  for (size_t i = 0; i < rows.size() && i < 5; ++i) ids += (i ? ", " : "") + to_str(rows[i][0]);
  throw Error("'" + ref + "' matches several runs (" + ids + ")", db_->where(),
              "give more of the run id");
}

StoredRun ResultsStore::load(const std::string& id, bool with_samples, bool with_texts) {
  auto rows = db_->query(
      "SELECT id, model, model_source, endpoint, status, started, duration_s, config, versions, "
      "stats, plan FROM runs WHERE id = $1",
      {id});
  if (rows.empty())
    throw Error("no run '" + id + "'", db_->where(), "`retort runs list` shows the run ids");
  const SqlRow& r = rows[0];
  StoredRun run;
  run.id = to_str(r[0]);
  run.model = to_str(r[1]);
  run.model_source = to_str(r[2]);
  run.endpoint = to_str(r[3]);
  run.status = to_str(r[4]);
  run.started = to_double(r[5]);
  run.duration_s = to_double(r[6]);
  run.config = to_json(r[7], Json::object());
  run.versions = to_json(r[8], Json::object());
  run.stats = to_json(r[9], Json::object());
  run.plan = to_json(r[10], Json::object());
  run.source = db_->where();
  std::map<std::string, size_t> index;
  std::map<int64_t, size_t> at_position;
  for (const auto& t : db_->query(
           "SELECT task, kind, alias, version, eval_version, num_fewshot, n_samples, n_original, "
           "n_failed, subtasks, position FROM tasks WHERE run_id = $1 ORDER BY position",
           {id})) {
    StoredTask task;
    task.name = to_str(t[0]);
    task.kind = to_str(t[1]);
    task.alias = to_str(t[2]);
    task.version = to_str(t[3]);
    task.eval_version = to_str(t[4]);
    task.num_fewshot = static_cast<int>(to_int(t[5]));
    task.n_samples = to_int(t[6]);
    task.n_original = to_int(t[7]);
    task.n_failed = to_int(t[8]);
    Json subs = to_json(t[9], Json::array());
    for (const auto& s : subs)
      if (s.is_string()) task.subtasks.push_back(s.get<std::string>());
    index[task.name] = run.tasks.size();
    at_position[to_int(t[10])] = run.tasks.size();
    run.tasks.push_back(std::move(task));
  }
  for (const auto& m :
       db_->query("SELECT task, metric, filter, value, stderr, n, higher_is_better FROM metrics "
                  "WHERE run_id = $1 ORDER BY task, position",
                  {id})) {
    auto it = index.find(to_str(m[0]));
    if (it == index.end()) continue;
    StoredMetric metric;
    metric.metric = to_str(m[1]);
    metric.filter = to_str(m[2]);
    metric.value = to_double(m[3]);
    if (m[4]) metric.stderr_value = to_double(m[4]);
    metric.n = to_int(m[5]);
    metric.higher_is_better = to_int(m[6]) != 0;
    run.tasks[it->second].metrics.push_back(std::move(metric));
  }
  if (with_samples) {
    // A row's prompt is its own, or (NULL) the one stored under its hash. Without texts the
    // prompts are not joined (an index lookup per row) and the texts not read.
    const std::string texts =
        with_texts ? "s.target, s.response, s.extracted, s.verdict, s.metrics, s.finish_reason, "
                     "s.failed, COALESCE(s.prompt, p.prompt), s.thinking_chars FROM samples s "
                     "JOIN runs r ON r.run_key = s.run_key "
                     "LEFT JOIN prompts p ON s.prompt IS NULL AND p.hash = s.prompt_hash "
                   : "NULL, NULL, NULL, s.verdict, s.metrics, s.finish_reason, s.failed, NULL, "
                     "s.thinking_chars FROM samples s JOIN runs r ON r.run_key = s.run_key ";
    std::vector<SqlRow> rows =
        db_->query("SELECT s.task, s.filter, s.doc_id, " + db_->hex_of("s.doc_hash") + ", " +
                       db_->hex_of("s.prompt_hash") + ", " + texts +
                       "WHERE r.id = $1 ORDER BY s.task, s.filter, s.doc_id",
                   {id});
    // Each task's samples are allocated once and the rows' texts moved into them, not
    // copied: the copies and regrown vectors were fresh pages for the kernel to zero, ~10%
    // of `retort compare` on two 20,000-sample runs (bench/README.md, store).
    std::vector<size_t> count(run.tasks.size());
    std::vector<size_t> task_of(rows.size(), run.tasks.size());  // size(): not a task's
    for (size_t i = 0; i < rows.size(); ++i) {
      auto it = at_position.find(to_int(rows[i][0]));
      if (it == at_position.end()) continue;
      task_of[i] = it->second;
      ++count[it->second];
    }
    for (size_t t = 0; t < count.size(); ++t) run.tasks[t].samples.reserve(count[t]);
    auto take = [](SqlValue& v) { return v ? std::move(*v) : std::string(); };
    for (size_t i = 0; i < rows.size(); ++i) {
      if (task_of[i] == run.tasks.size()) continue;
      SqlRow& s = rows[i];
      StoredTask& task = run.tasks[task_of[i]];
      StoredSample& sample = task.samples.emplace_back();
      sample.filter = take(s[1]);
      sample.doc_id = to_int(s[2]);
      sample.doc_hash = hash_from_hex(s[3]);
      sample.prompt_hash = hash_from_hex(s[4]);
      sample.target = take(s[5]);
      sample.response = take(s[6]);
      sample.extracted = take(s[7]);
      if (s[8]) sample.verdict = to_double(s[8]);
      if (s[9]) {
        sample.metrics = to_json(s[9], Json::object());
      } else if (sample.verdict && !task.metrics.empty()) {
        // NULL: {first metric: verdict} (SampleWriter::verdict_only).
        sample.metrics = Json::object();
        sample.metrics[task.metrics[0].metric] = *sample.verdict;
      }
      sample.finish_reason = take(s[10]);
      sample.failed = to_int(s[11]) != 0;
      sample.prompt = take(s[12]);
      sample.thinking_chars = to_int(s[13]);
      SqlRow().swap(s);  // this row's memory goes back now
    }
  }
  return run;
}

bool ResultsStore::remove(const std::string& id) {
  bool existed = false;
  in_transaction(*db_, [&] {
    existed = delete_run_rows(*db_, id);
    if (existed) drop_unused_prompts(*db_);
  });
  return existed;
}

// ---------------------------------------------------------------------------------------

Leaderboard build_leaderboard(ResultsStore& store, const std::vector<std::string>& tasks) {
  Leaderboard board;
  std::set<std::string> wanted(tasks.begin(), tasks.end());
  std::map<std::string, size_t> row_of;
  std::set<std::string> columns;
  // Newest run first: the first value seen for (model, task) is the one kept.
  for (const auto& summary : store.list()) {
    if (summary.status == "interrupted") continue;
    StoredRun run = store.load(summary.id, false);
    std::set<std::string> nested;  // without --tasks, a group stands for its subtasks
    for (const auto& t : run.tasks)
      for (const auto& c : t.subtasks) nested.insert(c);
    for (const auto& t : run.tasks) {
      if (t.metrics.empty()) continue;
      if (wanted.empty() ? nested.count(t.name) > 0 : !wanted.count(t.name)) continue;
      auto [it, fresh] = row_of.try_emplace(run.model, board.rows.size());
      if (fresh) board.rows.push_back(LeaderboardRow{run.model, {}, 0.0});
      LeaderboardRow& row = board.rows[it->second];
      if (row.cells.count(t.name)) continue;
      const StoredMetric& m = t.metrics.front();
      row.cells[t.name] =
          LeaderboardCell{m.value, m.stderr_value, m.metric + "," + m.filter, run.id};
      columns.insert(t.name);
    }
  }
  if (!wanted.empty()) {
    for (const auto& t : tasks)
      if (columns.count(t)) board.tasks.push_back(t);
  } else {
    board.tasks.assign(columns.begin(), columns.end());
  }
  for (auto& row : board.rows) {
    double sum = 0;
    for (const auto& [task, cell] : row.cells) sum += cell.value;
    row.mean = row.cells.empty() ? 0.0 : sum / static_cast<double>(row.cells.size());
  }
  // Rows with more of the columns first, then by mean.
  std::stable_sort(board.rows.begin(), board.rows.end(), [](const auto& a, const auto& b) {
    if (a.cells.size() != b.cells.size()) return a.cells.size() > b.cells.size();
    return a.mean > b.mean;
  });
  return board;
}

std::string format_leaderboard(const Leaderboard& board, const std::string& format) {
  std::string out;
  if (format == "json") {
    Json j = Json::object();
    j["tasks"] = board.tasks;
    Json rows = Json::array();
    for (const auto& row : board.rows) {
      Json r = {{"model", row.model}, {"mean", row.mean}};
      Json cells = Json::object();
      for (const auto& [task, c] : row.cells)
        cells[task] = {{"value", c.value},
                       {"stderr", c.stderr_value ? Json(*c.stderr_value) : Json()},
                       {"metric", c.metric},
                       {"run", c.run_id}};
      r["tasks"] = cells;
      rows.push_back(r);
    }
    j["rows"] = rows;
    return j.dump(2) + "\n";
  }
  auto cell_text = [](const LeaderboardRow& row, const std::string& task, bool csv) {
    auto it = row.cells.find(task);
    if (it == row.cells.end()) return std::string(csv ? "" : "—");
    if (csv) return fmt::format("{}", it->second.value);
    if (it->second.stderr_value)
      return fmt::format("{:.4f} ± {:.4f}", it->second.value, *it->second.stderr_value);
    return fmt::format("{:.4f}", it->second.value);
  };
  auto csv_field = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  if (format == "csv") {
    out = "model,mean";
    for (const auto& t : board.tasks) out += "," + csv_field(t);
    out += "\n";
    for (const auto& row : board.rows) {
      out += csv_field(row.model) + "," + fmt::format("{}", row.mean);
      for (const auto& t : board.tasks) out += "," + cell_text(row, t, true);
      out += "\n";
    }
    return out;
  }
  if (format != "md")
    throw Error("unknown format '" + format + "'", "--format", "use md, csv or json");
  auto md = [](const std::string& s) {
    std::string o;
    for (char c : s) o += c == '|' ? std::string("\\|") : std::string(1, c);
    return o;
  };
  out = "| # | Model | Mean |";
  std::string sep = "|--:|-------|-----:|";
  for (const auto& t : board.tasks) {
    out += " " + md(t) + " |";
    sep += std::string(std::max<size_t>(3, t.size()), '-') + ":|";
  }
  out += "\n" + sep + "\n";
  for (size_t i = 0; i < board.rows.size(); ++i) {
    const auto& row = board.rows[i];
    out += fmt::format("| {} | {} | {:.4f} |", i + 1, md(row.model), row.mean);
    for (const auto& t : board.tasks) out += " " + cell_text(row, t, false) + " |";
    out += "\n";
  }
  return out;
}

}  // namespace retort::store
