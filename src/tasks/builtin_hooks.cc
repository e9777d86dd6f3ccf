// Native built-ins for the Python hooks (`!function module.fn`) that lm-eval's task files
// for the catalog's benchmarks name. Each is registered under "<dir>/<module>.<fn>", where
// <dir> is the folder of lm-eval's tasks/ holding that module, so a task file written as
// `!function utils.doc_to_text` finds the right `utils` by the folder it sits in (ours
// mirror lm-eval's layout, and so does a checkout passed with --include_path).
//
// Behaviour of each hook is taken from lm-eval at commit 4e7e0d4 (the file is named beside
// each function; see also shared/reference/lm-eval-functions.md). The code is ours.
#include <algorithm>
#include <filesystem>
#include <map>

#include "tasks/task_spec_internal.h"
#include "tasks/tasks.h"
#include "template/pystring.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/py_random.h"
#include "util/py_regex.h"
#include "util/pyvalue.h"
#include "util/strings.h"

namespace retort {

// code_docs.cc
std::vector<Doc> code_contests_process_docs(std::vector<Doc> docs);
std::vector<Doc> ds1000_process_docs(std::vector<Doc> docs);

namespace {

using tmpl::py_capitalize;
using tmpl::py_lower;
using tmpl::py_replace;

// ------------------------------------------------------------------------------ helpers

const Json& col(const Doc& doc, const char* name, const char* hook) {
  if (!doc.is_object() || !doc.contains(name))
    throw Error(std::string("built-in ") + hook + ": the doc has no column '" + name + "'", "",
                "this hook expects the dataset's original columns");
  return doc[name];
}

std::string scol(const Doc& doc, const char* name, const char* hook) {
  const Json& v = col(doc, name, hook);
  return v.is_string() ? v.get<std::string>() : py_str(v);
}

// s[a:b] in code points (Python slicing with non-negative bounds, clamped).
std::string cp_slice(const std::string& s, size_t a, size_t b = std::string::npos) {
  std::vector<size_t> off = tmpl::code_point_offsets(s);
  size_t n = off.size() - 1;
  a = std::min(a, n);
  b = std::min(b, n);
  if (b <= a) return "";
  return s.substr(off[a], off[b] - off[a]);
}

// ---------------------------------------------------------------------------- hellaswag
// lm_eval/tasks/hellaswag/utils.py: preprocess, process_docs.

std::string hellaswag_preprocess(const std::string& text) {
  std::string t = py_strip(text);
  t = py_replace(t, " [title]", ". ", -1);
  t = py_re_sub(R"(\[.*?\])", "", t);
  return py_replace(t, "  ", " ", -1);
}

std::vector<Doc> hellaswag_process_docs(std::vector<Doc> docs) {
  const char* h = "hellaswag utils.process_docs";
  for (auto& doc : docs) {
    std::string ctx = scol(doc, "ctx_a", h) + " " + py_capitalize(scol(doc, "ctx_b", h));
    doc["query"] = hellaswag_preprocess(scol(doc, "activity_label", h) + ": " + ctx);
    Json choices = Json::array();
    for (const auto& e : col(doc, "endings", h)) choices.push_back(hellaswag_preprocess(py_str(e)));
    doc["choices"] = std::move(choices);
    // gold = int(label); the unlabelled test split has "" there.
    Json label = col(doc, "label", h);
    if (label.is_string()) {
      const std::string& l = label.get_ref<const std::string&>();
      label = py_isdigit(l) ? Json(static_cast<int64_t>(std::stoll(l))) : Json(nullptr);
    }
    doc["gold"] = label;
  }
  return docs;
}

// --------------------------------------------------------------------------- winogrande
// lm_eval/tasks/winogrande/preprocess_winogrande.py

size_t blank_index(const Doc& doc, const char* h) {
  std::string s = scol(doc, "sentence", h);
  size_t i = s.find('_');
  if (i == std::string::npos)
    throw Error(std::string(h) + ": the sentence has no '_' blank: " + s.substr(0, 120));
  return i;
}

Json winogrande_doc_to_text(const Doc& doc) {
  std::string a = scol(doc, "answer", "winogrande doc_to_text");
  if (a == "1") return 0;
  if (a == "2") return 1;
  throw Error("winogrande doc_to_text: answer must be \"1\" or \"2\", got \"" + a + "\"", "",
              "the test split has no answers; evaluate on validation");
}

Json winogrande_doc_to_target(const Doc& doc) {
  const char* h = "winogrande doc_to_target";
  std::string s = scol(doc, "sentence", h);
  return py_strip(s.substr(blank_index(doc, h) + 1));
}

Json winogrande_doc_to_choice(const Doc& doc) {
  const char* h = "winogrande doc_to_choice";
  std::string s = scol(doc, "sentence", h);
  std::string pre = s.substr(0, blank_index(doc, h));
  return Json::array({pre + scol(doc, "option1", h), pre + scol(doc, "option2", h)});
}

// ------------------------------------------------------------------------------- copa
// lm_eval/tasks/super_glue/copa/utils.py

std::string copa_convert_choice(const std::string& c) {
  if (c.empty()) return c;  // Python would raise IndexError; an empty choice stays empty
  return py_lower(cp_slice(c, 0, 1)) + cp_slice(c, 1);
}

Json copa_doc_to_text(const Doc& doc) {
  const char* h = "copa utils.doc_to_text";
  std::string q = scol(doc, "question", h);
  std::string connector;
  if (q == "cause")
    connector = "because";
  else if (q == "effect")
    connector = "therefore";
  else
    throw Error("copa doc_to_text: question must be 'cause' or 'effect', got '" + q + "'");
  std::string p = py_strip(scol(doc, "premise", h));
  size_t n = py_len(p);
  return cp_slice(p, 0, n == 0 ? 0 : n - 1) + " " + connector;
}

Json copa_doc_to_target(const Doc& doc) {
  const char* h = "copa utils.doc_to_target";
  const Json& label = col(doc, "label", h);
  bool first = label.is_number() ? label.get<double>() == 0 : py_str(label) == "0";
  return " " + copa_convert_choice(scol(doc, first ? "choice1" : "choice2", h));
}

Json copa_doc_to_choice(const Doc& doc) {
  const char* h = "copa utils.doc_to_choice";
  return Json::array({" " + copa_convert_choice(scol(doc, "choice1", h)),
                      " " + copa_convert_choice(scol(doc, "choice2", h))});
}

// -------------------------------------------------------------------------------- wsc
// lm_eval/tasks/super_glue/wsc/preprocess_wsc.py and lm_eval/utils.py:general_detokenize.

std::string general_detokenize(std::string s) {
  s = py_replace(s, " n't", "n't", -1);
  s = py_replace(s, " )", ")", -1);
  s = py_replace(s, "( ", "(", -1);
  s = py_replace(s, "\" ", "\"", -1);
  s = py_replace(s, " \"", "\"", -1);
  return py_re_sub(R"( (['.,]))", R"(\1)", s);
}

Json wsc_default_doc_to_text(const Doc& doc) {
  const char* h = "wsc preprocess_wsc.default_doc_to_text";
  std::string raw = scol(doc, "text", h);
  std::string span2 = scol(doc, "span2_text", h);
  const Json& idx = col(doc, "span2_index", h);
  int64_t k = idx.is_number_integer() ? idx.get<int64_t>() : std::stoll(py_str(idx));
  auto words = tmpl::py_split(raw, std::nullopt, -1);
  std::vector<std::string> head(
      words.begin(), words.begin() + std::min<int64_t>(k, static_cast<int64_t>(words.size())));
  std::string pre = join(head, " ");
  std::string post = cp_slice(raw, py_len(pre) + py_len(span2) + 1);
  std::string passage = general_detokenize(pre + " *" + span2 + "*" + post);
  return "Passage: " + passage + "\nQuestion: In the passage above, does the pronoun \"*" + span2 +
         "*\" refer to \"*" + scol(doc, "span1_text", h) + "*\"?\nAnswer:";
}

// ----------------------------------------------------------------------------- wsc273
// lm_eval/tasks/wsc273/utils.py

std::string wsc273_normalize_option(const Doc& doc, std::string option) {
  const char* h = "wsc273 utils.process_doc";
  std::string pronoun = py_lower(scol(doc, "pronoun", h));
  for (const char* p : {"my", "his", "her", "our", "their"})
    if (pronoun == p) {
      option += "'s";
      break;
    }
  auto words = tmpl::py_split(option, std::nullopt, -1);
  if (words.empty()) return option;
  const std::string& first = words[0];
  std::string text = scol(doc, "text", h);
  const Json& loc = col(doc, "pronoun_loc", h);
  int64_t pl = loc.is_number_integer() ? loc.get<int64_t>() : std::stoll(py_str(loc));
  // text[pronoun_loc - 2] with Python's negative indexing.
  int64_t n = static_cast<int64_t>(py_len(text));
  int64_t at = pl - 2;
  if (at < 0) at += n;
  bool start_of_sentence = at >= 0 && at < n && cp_slice(text, at, at + 1) == ".";
  static const char* kUpper[] = {"A",    "An", "The", "She", "He",   "It",
                                 "They", "My", "His", "Her", "Their"};
  bool upper = false;
  for (const char* u : kUpper)
    if (first == u) upper = true;
  if (!start_of_sentence && upper) return py_replace(option, first, py_lower(first), -1);
  return option;
}

std::vector<Doc> wsc273_process_doc(std::vector<Doc> docs) {
  const char* h = "wsc273 utils.process_doc";
  for (auto& doc : docs) {
    doc["text"] = py_replace(scol(doc, "text", h), "  ", " ", -1);
    Json opts = col(doc, "options", h);
    if (!opts.is_array() || opts.size() < 2)
      throw Error("wsc273 utils.process_doc: options must be a list of two strings");
    opts[0] = wsc273_normalize_option(doc, py_str(opts[0]));
    opts[1] = wsc273_normalize_option(doc, py_str(opts[1]));
    doc["options"] = opts;
  }
  return docs;
}

// ------------------------------------------------------------------------ medical QA
// lm_eval/tasks/medqa/preprocess_medqa.py, medmcqa/utils_medmcqa.py,
// pubmedqa/preprocess_pubmedqa.py

Json medqa_doc_to_text(const Doc& doc) {
  const char* h = "medqa preprocess_medqa.doc_to_text";
  std::string out = "Question: " + scol(doc, "sent1", h) + "\n";
  out += "A. " + scol(doc, "ending0", h) + "\n";
  out += "B. " + scol(doc, "ending1", h) + "\n";
  out += "C. " + scol(doc, "ending2", h) + "\n";
  out += "D. " + scol(doc, "ending3", h) + "\n";
  return out + "Answer:";
}

Json medqa_doc_to_target(const Doc& doc) {
  return col(doc, "label", "medqa preprocess_medqa.doc_to_target");
}

Json medmcqa_doc_to_text(const Doc& doc) {
  const char* h = "medmcqa utils_medmcqa.doc_to_text";
  std::string out = "Question: " + scol(doc, "question", h) + "\nChoices:\n";
  out += "A. " + scol(doc, "opa", h) + "\n";
  out += "B. " + scol(doc, "opb", h) + "\n";
  out += "C. " + scol(doc, "opc", h) + "\n";
  out += "D. " + scol(doc, "opd", h) + "\n";
  return out + "Answer:";
}

Json pubmedqa_doc_to_text(const Doc& doc) {
  const char* h = "pubmedqa preprocess_pubmedqa.doc_to_text";
  std::vector<std::string> ctxs;
  for (const auto& c : col(doc, "CONTEXTS", h)) ctxs.push_back(py_str(c));
  return "Abstract: " + join(ctxs, "\n") + "\nQuestion: " + scol(doc, "QUESTION", h) + "\nAnswer:";
}

// ----------------------------------------------------------------------------- mathqa
// lm_eval/tasks/mathqa/utils.py

Json mathqa_doc_to_choice(const Doc& doc) {
  std::string options = scol(doc, "options", "mathqa utils.doc_to_choice");
  Json found = py_re_findall(R"([abcd] \) .*?, |e \) .*?$)", options);
  Json out = Json::array();
  for (const auto& c : found)
    out.push_back(tmpl::py_strip_chars(cp_slice(c.get<std::string>(), 4), std::string(" ,"),
                                       tmpl::StripSide::kRight));
  return out;
}

// ---------------------------------------------------------------------------- truthfulqa
// lm_eval/tasks/truthfulqa/utils.py: process_docs_gen (preprocess_function).

Json truthfulqa_format_answers(const Json& answers) {
  Json out = Json::array();
  for (const auto& a : answers) {
    std::string s = py_strip(py_str(a));
    if (s.empty()) continue;
    if (!ends_with(s, ".")) s += ".";
    out.push_back(s);
  }
  return out;
}

std::vector<Doc> truthfulqa_process_docs_gen(std::vector<Doc> docs) {
  const char* h = "truthfulqa utils.process_docs_gen";
  for (auto& doc : docs) {
    Json correct = truthfulqa_format_answers(col(doc, "correct_answers", h));
    Json incorrect = truthfulqa_format_answers(col(doc, "incorrect_answers", h));
    if (std::find(correct.begin(), correct.end(), Json("I have no comment.")) == correct.end())
      correct.push_back("I have no comment.");
    // datasets.map keeps the other columns and their order; these three are replaced.
    doc["question"] = py_strip(scol(doc, "question", h));
    doc["correct_answers"] = correct;
    doc["incorrect_answers"] = incorrect;
  }
  return docs;
}

// ------------------------------------------------------------------------------ squadv2
// lm_eval/tasks/squadv2/task.py, class SQuAD2: doc_to_text (L80-92), doc_to_target (L100-106).

Json squadv2_doc_to_text(const Doc& doc) {
  const char* h = "squadv2 task.SQuAD2.doc_to_text";
  return "Title: " + scol(doc, "title", h) + "\n\nBackground: " + scol(doc, "context", h) +
         "\n\nQuestion: " + scol(doc, "question", h) + "\n\nAnswer:";
}

Json squadv2_doc_to_target(const Doc& doc) {
  const char* h = "squadv2 task.SQuAD2.doc_to_target";
  const Json& answers = col(doc, "answers", h);
  if (!answers.is_object() || !answers.contains("text") || !answers["text"].is_array())
    throw Error(std::string(h) + ": answers must be {text: [...], answer_start: [...]}");
  const Json& text = answers["text"];
  return " " + (text.empty() ? std::string("unanswerable") : py_str(text[0]));
}

// ---------------------------------------------------------------------------------- drop
// lm_eval/tasks/drop/utils.py: process_docs (L10-19), get_answers (L22-48), parse_answer
// (L51-61).

// One answer struct {number, date: {day, month, year}, spans} as a tuple of strings.
Json drop_parse_answer(const Json& number, const Json& date, const Json& spans, const char* h) {
  std::string n = py_str(number);
  if (!(number.is_string() && n.empty())) return Json::array({n});
  if (spans.is_array() && !spans.empty()) {
    Json out = Json::array();
    for (const auto& x : spans) out.push_back(py_str(x));
    return out;
  }
  if (!date.is_object())
    throw Error(std::string(h) + ": an answer's date must be {day, month, year}");
  std::string d = py_str(date.value("day", Json(""))) + " " +
                  py_str(date.value("month", Json(""))) + " " +
                  py_str(date.value("year", Json("")));
  return Json::array({py_strip(d)});
}

std::vector<Doc> drop_process_docs(std::vector<Doc> docs) {
  const char* h = "drop utils.process_docs";
  for (auto& doc : docs) {
    const Json& answer = col(doc, "answer", h);
    const Json& validated = col(doc, "validated_answers", h);
    if (!answer.is_object() || !validated.is_object())
      throw Error(std::string(h) + ": answer and validated_answers must be structs");
    Json answers = Json::array();
    auto add = [&](const Json& parsed) {
      if (std::find(answers.begin(), answers.end(), parsed) == answers.end())
        answers.push_back(parsed);
    };
    add(drop_parse_answer(answer.value("number", Json("")), answer.value("date", Json::object()),
                          answer.value("spans", Json::array()), h));
    // validated_answers is a Sequence of structs, which datasets hands over as a struct of
    // lists ({number: [...], date: [...], spans: [[...], ...]}).
    const Json numbers = validated.value("number", Json::array());
    const Json dates = validated.value("date", Json::array());
    const Json spans = validated.value("spans", Json::array());
    for (size_t i = 0; i < numbers.size(); ++i) {
      Json date = Json::object();
      if (dates.is_array() && i < dates.size()) {
        date = dates[i];
      } else if (dates.is_object()) {  // a date struct of lists
        for (const char* k : {"day", "month", "year"})
          if (dates.contains(k) && dates[k].is_array() && i < dates[k].size())
            date[k] = dates[k][i];
      }
      add(drop_parse_answer(numbers[i], date,
                            spans.is_array() && i < spans.size() ? spans[i] : Json::array(), h));
    }
    // datasets.map keeps the columns, overwrites passage and question in place and appends
    // the new ones in the order _process returns them.
    doc["id"] = col(doc, "query_id", h);
    doc["passage"] = col(doc, "passage", h);
    doc["question"] = col(doc, "question", h);
    doc["answers"] = std::move(answers);
  }
  return docs;
}

// ---------------------------------------------------------------------------------- coqa
// lm_eval/tasks/coqa/utils.py: doc_to_text (L6-16), doc_to_target (L19-34).

const Json& coqa_texts(const Doc& doc, const char* column, const char* h) {
  const Json& c = col(doc, column, h);
  if (!c.is_object() || !c.contains("input_text") || !c["input_text"].is_array())
    throw Error(std::string(h) + ": " + column + " must be {input_text: [...], ...}");
  return c["input_text"];
}

Json coqa_doc_to_text(const Doc& doc) {
  const char* h = "coqa utils.doc_to_text";
  const Json& qs = coqa_texts(doc, "questions", h);
  const Json& as = coqa_texts(doc, "answers", h);
  std::string out = scol(doc, "story", h) + "\n\n";
  // zip_longest(questions, answers[:-1]): the last question has no answer yet.
  const size_t n_answers = as.empty() ? 0 : as.size() - 1;
  for (size_t i = 0; i < std::max(qs.size(), n_answers); ++i) {
    out += "Q: " + (i < qs.size() ? py_str(qs[i]) : std::string("None")) + "\n\n";
    out += i < n_answers ? "A: " + py_str(as[i]) + "\n\n" : std::string("A:");
  }
  return out;
}

Json coqa_doc_to_target(const Doc& doc) {
  const char* h = "coqa utils.doc_to_target";
  const Json& qs = coqa_texts(doc, "questions", h);
  const Json& as = coqa_texts(doc, "answers", h);
  const size_t turn = qs.size();
  if (turn == 0 || as.size() < turn)
    throw Error(std::string(h) + ": the story has " + std::to_string(turn) + " questions and " +
                std::to_string(as.size()) + " answers");
  Json out = Json::array({py_str(as[turn - 1])});
  std::vector<std::string> lowered = {py_lower(py_str(as[turn - 1]))};
  if (doc.contains("additional_answers") && doc["additional_answers"].is_object())
    for (const auto& [key, set] : doc["additional_answers"].items()) {
      if (!set.is_object() || !set.contains("input_text") || set["input_text"].size() < turn)
        throw Error(std::string(h) + ": additional_answers." + key + " has no answer for turn " +
                    std::to_string(turn));
      std::string a = py_str(set["input_text"][turn - 1]);
      std::string low = py_lower(a);
      if (std::find(lowered.begin(), lowered.end(), low) != lowered.end()) continue;
      out.push_back(a);
      lowered.push_back(low);
    }
  return out;
}

// ---------------------------------------------------------------------------- mmlu_pro
// lm_eval/tasks/mmlu_pro/utils.py

Json mmlu_pro_doc_to_text(const Doc& doc) {
  const char* h = "mmlu_pro utils.doc_to_text";
  std::string p = "Question:\n" + scol(doc, "question", h) + "\nOptions:\n";
  const char* letters = "ABCDEFGHIJ";
  int i = 0;
  for (const auto& o : col(doc, "options", h)) {
    if (i >= 10) break;
    p += std::string(1, letters[i++]) + ". " + py_strip(py_str(o)) + "\n";
  }
  return p + "Answer: Let's think step by step.";
}

// leaderboard/mmlu_pro/utils.py doc_to_text / doc_to_choice: the question, one
// "<letter>. <option>" line per option (options as they are, no strip), "Answer:"; the
// choices are the letters.
Json leaderboard_mmlu_pro_doc_to_text(const Doc& doc) {
  const char* h = "leaderboard/mmlu_pro utils.doc_to_text";
  std::string p = scol(doc, "question", h) + "\n";
  size_t i = 0;
  for (const auto& o : col(doc, "options", h)) {
    if (i >= 26) throw Error(std::string(h) + ": more than 26 options");
    p += std::string(1, static_cast<char>('A' + i++)) + ". " + py_str(o) + "\n";
  }
  return p + "Answer:";
}

Json leaderboard_mmlu_pro_doc_to_choice(const Doc& doc) {
  const char* h = "leaderboard/mmlu_pro utils.doc_to_choice";
  const Json& options = col(doc, "options", h);
  if (options.size() > 26) throw Error(std::string(h) + ": more than 26 options");
  Json out = Json::array();
  for (size_t i = 0; i < options.size(); ++i) out.push_back(std::string(1, 'A' + i));
  return out;
}

// leaderboard/musr/utils.py doc_to_text: "{narrative}\n\n{question}\n\n{choices}\nAnswer:"
// with choices "<i> - <choice>\n" for each entry of ast.literal_eval(doc["choices"]).
Json leaderboard_musr_doc_to_text(const Doc& doc) {
  const char* h = "leaderboard/musr utils.doc_to_text";
  Json choices = py_literal_eval(scol(doc, "choices", h));
  if (!choices.is_array()) throw Error(std::string(h) + ": 'choices' is not a list literal");
  std::string list;
  int i = 0;
  for (const auto& c : choices) list += std::to_string(++i) + " - " + py_str(c) + "\n";
  return scol(doc, "narrative", h) + "\n\n" + scol(doc, "question", h) + "\n\n" + list +
         "\nAnswer:";
}

// leaderboard/musr/utils.py doc_to_choice: ast.literal_eval(doc["choices"]).
Json leaderboard_musr_doc_to_choice(const Doc& doc) {
  return py_literal_eval(scol(doc, "choices", "leaderboard/musr utils.doc_to_choice"));
}

Json mmlu_pro_fewshot_to_target(const Doc& doc) {
  return py_replace(scol(doc, "cot_content", "mmlu_pro utils.fewshot_to_target"),
                    "A: Let's think step by step. ", "", -1);
}

template <const char* Subject>
std::vector<Doc> mmlu_pro_filter(std::vector<Doc> docs) {
  std::vector<Doc> out;
  for (auto& d : docs)
    if (d.is_object() && d.contains("category") && d["category"] == Subject)
      out.push_back(std::move(d));
  return out;
}

#define RETORT_MMLU_PRO_SUBJECT(id, text) constexpr char kMmluPro_##id[] = text;
RETORT_MMLU_PRO_SUBJECT(biology, "biology")
RETORT_MMLU_PRO_SUBJECT(business, "business")
RETORT_MMLU_PRO_SUBJECT(chemistry, "chemistry")
RETORT_MMLU_PRO_SUBJECT(computer_science, "computer science")
RETORT_MMLU_PRO_SUBJECT(economics, "economics")
RETORT_MMLU_PRO_SUBJECT(engineering, "engineering")
RETORT_MMLU_PRO_SUBJECT(health, "health")
RETORT_MMLU_PRO_SUBJECT(history, "history")
RETORT_MMLU_PRO_SUBJECT(law, "law")
RETORT_MMLU_PRO_SUBJECT(math, "math")
RETORT_MMLU_PRO_SUBJECT(other, "other")
RETORT_MMLU_PRO_SUBJECT(philosophy, "philosophy")
RETORT_MMLU_PRO_SUBJECT(physics, "physics")
RETORT_MMLU_PRO_SUBJECT(psychology, "psychology")
#undef RETORT_MMLU_PRO_SUBJECT

// -------------------------------------------------------------------------------- gpqa
// lm_eval/tasks/gpqa/*/utils.py: preprocess and process_docs. lm-eval shuffles with
// Python's global (or a module-level) RNG, so its option order depends on how often and in
// which order process_docs ran; retort instead seeds one random.Random per question
// (the first 8 bytes of sha256(Question) as an int), so a question's option order is the
// same in every run, on every split access and under --limit. The shuffle itself is
// CPython's random.shuffle.

// leaderboard/gpqa/utils.py's preprocess also drops every "[...]" (re.sub("\\[.*?\\]", "",
// text): non-greedy, within a line) before collapsing double spaces.
template <bool kLeaderboard>
std::string gpqa_preprocess(const Json& v) {
  if (v.is_null()) return " ";
  std::string t = py_strip(py_str(v));
  t = py_replace(t, " [title]", ". ", -1);
  if (kLeaderboard) t = py_re_sub(R"(\[.*?\])", "", t);
  return py_replace(t, "  ", " ", -1);
}

template <bool kLeaderboard>
std::vector<Doc> gpqa_process_docs(std::vector<Doc> docs) {
  const char* h = "gpqa utils.process_docs";
  for (auto& doc : docs) {
    std::vector<std::string> c = {
        gpqa_preprocess<kLeaderboard>(col(doc, "Incorrect Answer 1", h)),
        gpqa_preprocess<kLeaderboard>(col(doc, "Incorrect Answer 2", h)),
        gpqa_preprocess<kLeaderboard>(col(doc, "Incorrect Answer 3", h)),
        gpqa_preprocess<kLeaderboard>(col(doc, "Correct Answer", h)),
    };
    const std::string correct = c[3];
    std::string digest = sha256_hex(scol(doc, "Question", h));
    int64_t seed = static_cast<int64_t>(std::stoull(digest.substr(0, 15), nullptr, 16));
    PyRandom rnd(seed);
    rnd.shuffle(c);
    size_t k = static_cast<size_t>(std::find(c.begin(), c.end(), correct) - c.begin());
    for (size_t i = 0; i < 4; ++i) doc["choice" + std::to_string(i + 1)] = c[i];
    doc["choices"] = Json::array({c[0], c[1], c[2], c[3]});
    doc["answer"] = std::string("(") + static_cast<char>('A' + k) + ")";
  }
  return docs;
}

// ------------------------------------------------------------------------------ tables

struct ProcessorEntry {
  const char* key;
  DocProcessor fn;
};
struct FunctionEntry {
  const char* key;
  DocFunction fn;
};

const ProcessorEntry kProcessors[] = {
    {"retort.code_contests_process_docs", &code_contests_process_docs},
    {"retort.ds1000_process_docs", &ds1000_process_docs},
    {"hellaswag/utils.process_docs", &hellaswag_process_docs},
    {"hendrycks_math/utils.process_docs", &tasks_internal::hendrycks_math_process_docs},
    {"minerva_math/utils.process_docs", &tasks_internal::minerva_math_process_docs},
    {"leaderboard/math/utils.process_docs", &tasks_internal::leaderboard_math_process_docs},
    {"wsc273/utils.process_doc", &wsc273_process_doc},
    {"truthfulqa/utils.process_docs_gen", &truthfulqa_process_docs_gen},
    {"drop/utils.process_docs", &drop_process_docs},
    {"gpqa/zeroshot/utils.process_docs", &gpqa_process_docs<false>},
    {"gpqa/n_shot/utils.process_docs", &gpqa_process_docs<false>},
    {"gpqa/generative/utils.process_docs", &gpqa_process_docs<false>},
    {"gpqa/cot_zeroshot/utils.process_docs", &gpqa_process_docs<false>},
    {"gpqa/cot_n_shot/utils.process_docs", &gpqa_process_docs<false>},
    {"leaderboard/gpqa/utils.process_docs", &gpqa_process_docs<true>},
#define RETORT_MMLU_PRO(id) {"mmlu_pro/utils.process_" #id, &mmlu_pro_filter<kMmluPro_##id>},
    RETORT_MMLU_PRO(biology) RETORT_MMLU_PRO(business) RETORT_MMLU_PRO(chemistry)
        RETORT_MMLU_PRO(computer_science) RETORT_MMLU_PRO(economics) RETORT_MMLU_PRO(engineering)
            RETORT_MMLU_PRO(health) RETORT_MMLU_PRO(history) RETORT_MMLU_PRO(law)
                RETORT_MMLU_PRO(math) RETORT_MMLU_PRO(other) RETORT_MMLU_PRO(philosophy)
                    RETORT_MMLU_PRO(physics) RETORT_MMLU_PRO(psychology)
#undef RETORT_MMLU_PRO
};

// mbpp/utils.py list_fewshot_samples: the three fixed exemplars (task_ids 2, 3, 4, each
// with is_fewshot: True, which the task's doc_to_target tests) that lm-eval's mbpp tasks
// put before every question. The same docs as tasks/mbpp/mbpp.yaml writes inline.
Json mbpp_fewshot_samples(const Doc&) {
  static const Json kSamples = Json::parse(R"json([
        {"task_id": 2, "text": "Write a function to find the similar elements from the given two tuple lists.", "code": "def similar_elements(test_tup1, test_tup2):\r\n  res = tuple(set(test_tup1) & set(test_tup2))\r\n  return (res) ", "test_list": ["assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)", "assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)", "assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)"], "is_fewshot": true},
        {"task_id": 3, "text": "Write a python function to identify non-prime numbers.", "code": "import math\r\ndef is_not_prime(n):\r\n    result = False\r\n    for i in range(2,int(math.sqrt(n)) + 1):\r\n        if n % i == 0:\r\n            result = True\r\n    return result", "test_list": ["assert is_not_prime(2) == False", "assert is_not_prime(10) == True", "assert is_not_prime(35) == True"], "is_fewshot": true},
        {"task_id": 4, "text": "Write a function to find the largest integers from a given list of numbers using heap queue algorithm.", "code": "import heapq as hq\r\ndef heap_queue_largest(nums,n):\r\n  largest_nums = hq.nlargest(n, nums)\r\n  return largest_nums", "test_list": ["assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],3)==[85, 75, 65] ", "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],2)==[85, 75] ", "assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],5)==[85, 75, 65, 58, 35]"], "is_fewshot": true}
  ])json");
  return kSamples;
}

const FunctionEntry kFunctions[] = {
    {"winogrande/preprocess_winogrande.doc_to_text", &winogrande_doc_to_text},
    {"winogrande/preprocess_winogrande.doc_to_target", &winogrande_doc_to_target},
    {"winogrande/preprocess_winogrande.doc_to_choice", &winogrande_doc_to_choice},
    {"super_glue/copa/utils.doc_to_text", &copa_doc_to_text},
    {"super_glue/copa/utils.doc_to_target", &copa_doc_to_target},
    {"super_glue/copa/utils.doc_to_choice", &copa_doc_to_choice},
    {"super_glue/wsc/preprocess_wsc.default_doc_to_text", &wsc_default_doc_to_text},
    {"medqa/preprocess_medqa.doc_to_text", &medqa_doc_to_text},
    {"medqa/preprocess_medqa.doc_to_target", &medqa_doc_to_target},
    {"medmcqa/utils_medmcqa.doc_to_text", &medmcqa_doc_to_text},
    {"pubmedqa/preprocess_pubmedqa.doc_to_text", &pubmedqa_doc_to_text},
    {"mathqa/utils.doc_to_choice", &mathqa_doc_to_choice},
    {"mmlu_pro/utils.doc_to_text", &mmlu_pro_doc_to_text},
    {"mmlu_pro/utils.fewshot_to_text", &mmlu_pro_doc_to_text},
    {"mmlu_pro/utils.fewshot_to_target", &mmlu_pro_fewshot_to_target},
    {"leaderboard/mmlu_pro/utils.doc_to_text", &leaderboard_mmlu_pro_doc_to_text},
    {"leaderboard/mmlu_pro/utils.doc_to_choice", &leaderboard_mmlu_pro_doc_to_choice},
    {"leaderboard/musr/utils.doc_to_text", &leaderboard_musr_doc_to_text},
    {"leaderboard/musr/utils.doc_to_choice", &leaderboard_musr_doc_to_choice},
    {"minerva_math/utils.doc_to_text", &tasks_internal::minerva_math_doc_to_text},
    // fewshot_config.samples: called once with an empty doc; returns the list of docs.
    {"minerva_math/utils.list_fewshot_samples", &tasks_internal::minerva_math_fewshot_samples},
    {"mbpp/utils.list_fewshot_samples", &mbpp_fewshot_samples},
    {"leaderboard/math/utils.doc_to_text", &tasks_internal::minerva_math_doc_to_text},
    {"leaderboard/math/utils.list_fewshot_samples",
     &tasks_internal::leaderboard_math_fewshot_samples},
    {"squadv2/task.SQuAD2.doc_to_text", &squadv2_doc_to_text},
    {"squadv2/task.SQuAD2.doc_to_target", &squadv2_doc_to_target},
    {"coqa/utils.doc_to_text", &coqa_doc_to_text},
    {"coqa/utils.doc_to_target", &coqa_doc_to_target},
};

// process_results hooks are implemented in src/scoring (scoring/task_hooks.cc); tasks only
// needs their names to accept a task file.
const char* const kProcessResults[] = {
    "truthfulqa/utils.process_results_mc2",
    "minerva_math/utils.process_results",
    "squadv2/task.SQuAD2.process_results",
    "drop/utils.process_results",
    "coqa/utils.process_results",
    "truthfulqa/utils.process_results_gen",
    "hendrycks_math/utils.process_results",
    "aime/utils.process_results",
    "leaderboard/math/utils.process_results",
};

// Custom filter functions (`filter: [{function: custom, filter_fn: !function KEY}]`), as
// retort's code_extract step with the style that does what the function does
// (scoring/code_exec.cc extract_code).
//  humaneval/utils.py build_predictions: doc["prompt"] + reply, for every reply;
//  build_predictions_instruct: doc["prompt"] + the reply up to its first "```";
//  mbpp/utils.py build_predictions: extract_code_blocks(reply), "" without a fenced block.
const std::pair<const char*, const char*> kFilterFunctions[] = {
    {"humaneval/utils.build_predictions", "humaneval_build_predictions"},
    {"humaneval/utils.build_predictions_instruct", "humaneval_build_predictions_instruct"},
    {"mbpp/utils.build_predictions", "mbpp_build_predictions"},
};

// Metric functions: humaneval/utils.py pass_at_k (HF evaluate's code_eval with the entry's
// k list; its dict result becomes one metric per k, "pass@K") and mbpp/utils.py pass_at_1
// (code_eval with k=[1], reported under the function's own name). Both run the program
// followed by the doc's target (the tests) in retort's sandbox, as Python.
const char* const kMetricFunctions[] = {"humaneval/utils.pass_at_k", "mbpp/utils.pass_at_1"};

// lm_eval/tasks/squadv2/task.py class SQuAD2 (L52-245): lighteval/squad_v2, validation
// docs (train for few-shot), generate_until with until ["\n"] and nothing else
// (construct_requests L108-137), plus the loglikelihood of " unanswerable"; the eight metrics
// of evaluate's squad_v2, aggregated over the corpus; metadata version 3.
Json squadv2_class_config() {
  Json c = Json::object();
  c["dataset_path"] = "lighteval/squad_v2";
  c["training_split"] = "train";
  c["validation_split"] = "validation";
  c["output_type"] = "generate_until";
  c["doc_to_text"] = Json{{"!function", "squadv2/task.SQuAD2.doc_to_text"}};
  c["doc_to_target"] = Json{{"!function", "squadv2/task.SQuAD2.doc_to_target"}};
  c["generation_kwargs"] = Json{{"until", Json::array({"\n"})}};
  c["process_results"] = Json{{"!function", "squadv2/task.SQuAD2.process_results"}};
  Json metrics = Json::array();
  for (const char* m : {"exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1",
                        "best_exact", "best_f1"})
    metrics.push_back(Json{{"metric", m}, {"aggregation", "squad_v2"}, {"higher_is_better", true}});
  c["metric_list"] = metrics;
  c["metadata"] = Json{{"version", 3}};
  return c;
}

const BuiltinTaskClass kTaskClasses[] = {
    {"squadv2/task.SQuAD2",
     &squadv2_class_config,
     {" unanswerable"},
     "lm-eval's SQuAD2 class builds no few-shot prompt (its one-argument doc_to_target fails "
     "when lm-eval asks it for a few-shot example's target), so squadv2 is zero-shot only"},
};

// Names written by retort's own earlier task files.
const std::pair<const char*, const char*> kLegacyNames[] = {
    {"retort.hellaswag_process_docs", "hellaswag/utils.process_docs"},
    {"retort.hendrycks_math_process_docs", "hendrycks_math/utils.process_docs"},
};

std::vector<std::string> keys_of_kind(BuiltinKind kind) {
  std::vector<std::string> out;
  if (kind == BuiltinKind::kProcessDocs)
    for (const auto& e : kProcessors) out.push_back(e.key);
  if (kind == BuiltinKind::kDocFunction)
    for (const auto& e : kFunctions) out.push_back(e.key);
  if (kind == BuiltinKind::kProcessResults)
    for (const char* k : kProcessResults) out.push_back(k);
  if (kind == BuiltinKind::kTaskClass)
    for (const auto& c : kTaskClasses) out.push_back(c.key);
  if (kind == BuiltinKind::kFilterFunction)
    for (const auto& [k, style] : kFilterFunctions) out.push_back(k);
  if (kind == BuiltinKind::kMetricFunction)
    for (const char* k : kMetricFunctions) out.push_back(k);
  return out;
}

}  // namespace

std::string resolve_builtin_function(BuiltinKind kind, const std::string& written,
                                     const std::string& yaml_file) {
  for (const auto& [old, key] : kLegacyNames)
    if (written == old) return key;
  std::vector<std::string> keys = keys_of_kind(kind);
  if (std::find(keys.begin(), keys.end(), written) != keys.end()) return written;
  // Candidates: keys "<dir>/<written>". Prefer the one whose <dir> is the trailing part of
  // the YAML file's folder; else accept a unique candidate.
  std::vector<std::string> candidates;
  for (const auto& k : keys)
    if (ends_with(k, "/" + written)) candidates.push_back(k);
  if (candidates.empty()) return "";
  std::string folder = std::filesystem::path(yaml_file).parent_path().generic_string() + "/";
  std::string best;
  for (const auto& k : candidates) {
    std::string dir = k.substr(0, k.size() - written.size());  // "<dir>/"
    if (ends_with(folder, "/" + dir) || folder == dir) {
      if (best.empty() || dir.size() > best.size() - written.size()) best = k;
    }
  }
  if (!best.empty()) return best;
  // A scorer is never taken from another folder: a task's own utils.process_results must not
  // silently become a built-in one (minerva_math's) that happens to share the name. The same
  // holds for filter and metric functions (mbpp's build_predictions is not humaneval's).
  if (kind == BuiltinKind::kProcessResults || kind == BuiltinKind::kFilterFunction ||
      kind == BuiltinKind::kMetricFunction)
    return "";
  // Same function body under several folders (gpqa's variants) counts as one.
  bool same = true;
  for (const auto& k : candidates)
    if (kind == BuiltinKind::kProcessDocs && find_builtin_process_docs(k) &&
        *find_builtin_process_docs(k) != *find_builtin_process_docs(candidates[0]))
      same = false;
  if (candidates.size() == 1 || (kind == BuiltinKind::kProcessDocs && same)) return candidates[0];
  return "";
}

const DocProcessor* find_builtin_process_docs(const std::string& key) {
  for (const auto& [old, k] : kLegacyNames)
    if (key == old) return find_builtin_process_docs(k);
  for (const auto& e : kProcessors)
    if (key == e.key) return &e.fn;
  return nullptr;
}

const DocFunction* find_builtin_doc_function(const std::string& key) {
  for (const auto& e : kFunctions)
    if (key == e.key) return &e.fn;
  return nullptr;
}

const BuiltinTaskClass* find_builtin_task_class(const std::string& key) {
  for (const auto& c : kTaskClasses)
    if (key == c.key) return &c;
  return nullptr;
}

std::optional<Json> builtin_filter_step(const std::string& key) {
  for (const auto& [k, style] : kFilterFunctions)
    if (key == k) return Json{{"function", "code_extract"}, {"style", style}};
  return std::nullopt;
}

std::optional<Json> builtin_metric_entries(const std::string& key, const Json& entry) {
  auto with = [&](const std::string& name) {
    Json e = Json::object();
    e["metric"] = name;
    e["language"] = "python";
    for (const char* k : {"aggregation", "higher_is_better"})
      if (entry.contains(k)) e[k] = entry[k];
    return e;
  };
  if (key == "mbpp/utils.pass_at_1") return Json::array({with("pass_at_1")});
  if (key != "humaneval/utils.pass_at_k") return std::nullopt;
  // pass_at_k asserts that k is given; an int counts as [k].
  Json ks = entry.contains("k") ? entry["k"] : Json();
  if (ks.is_number_integer()) ks = Json::array({ks});
  if (!ks.is_array() || ks.empty())
    throw Error(
        "humaneval/utils.pass_at_k needs 'k' (an integer or a list of integers) in its "
        "metric_list entry");
  Json out = Json::array();
  for (const Json& k : ks) {
    if (!k.is_number_integer() || k.get<int64_t>() < 1)
      throw Error("humaneval/utils.pass_at_k: each k must be a positive integer, got " + k.dump());
    out.push_back(with("pass@" + std::to_string(k.get<int64_t>())));
  }
  return out;
}

std::vector<std::string> builtin_function_names() {
  std::vector<std::string> out;
  for (auto kind :
       {BuiltinKind::kProcessDocs, BuiltinKind::kDocFunction, BuiltinKind::kProcessResults,
        BuiltinKind::kTaskClass, BuiltinKind::kFilterFunction, BuiltinKind::kMetricFunction})
    for (auto& k : keys_of_kind(kind)) out.push_back(k);
  return out;
}

std::vector<std::string> builtin_process_results_names() {
  return keys_of_kind(BuiltinKind::kProcessResults);
}

}  // namespace retort
