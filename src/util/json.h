// The JSON value type used everywhere. Insertion-ordered objects, because dataset rows,
// results files and request bodies must keep the key order they were built or read with
// (lm-eval hashes `json.dumps(doc)` in column order).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <ostream>
#include <string>

namespace retort {

using Json = nlohmann::ordered_json;

// A Doc is one dataset row: a JSON object whose keys are the dataset's columns, in order.
using Doc = Json;

// A JSON value that copies share until one of them is changed (copy on write): copying it
// copies a pointer. For values that many objects carry unchanged, such as the generation
// kwargs of every request of a task (copying that object per request was ~5% of a whole
// run's CPU). Not for values changed from several threads at once. Default: an empty object.
class SharedJson {
 public:
  SharedJson() = default;
  SharedJson(Json v) : p_(std::make_shared<Json>(std::move(v))) {}  // NOLINT: implicit
  SharedJson& operator=(Json v) {
    p_ = std::make_shared<Json>(std::move(v));
    return *this;
  }

  const Json& operator*() const { return p_ ? *p_ : empty_object(); }
  const Json* operator->() const { return &**this; }
  operator const Json&() const { return **this; }  // NOLINT: implicit
  // The member key (throws nlohmann's out_of_range when there is none).
  const Json& operator[](const std::string& key) const { return (**this).at(key); }
  // The value to change: this copy's own (copied first when it is shared).
  Json& edit() {
    if (!p_)
      p_ = std::make_shared<Json>(Json::object());
    else if (p_.use_count() > 1)
      p_ = std::make_shared<Json>(*p_);
    return *p_;
  }
  // Whether a value was given (a default-made one reads as an empty object).
  bool has_value() const { return p_ != nullptr; }
  // Which value this is (copies that share one value have the same identity).
  const void* identity() const { return p_.get(); }

  friend bool operator==(const SharedJson& a, const Json& b) { return *a == b; }
  friend bool operator==(const SharedJson& a, const SharedJson& b) { return *a == *b; }
  friend std::ostream& operator<<(std::ostream& os, const SharedJson& j) { return os << *j; }

 private:
  static const Json& empty_object() {
    static const Json kEmpty = Json::object();
    return kEmpty;
  }
  std::shared_ptr<Json> p_;  // never changed while shared
};

}  // namespace retort
