// Where retort keeps the user's files, by the XDG Base Directory spec
// (https://specifications.freedesktop.org/basedir-spec/latest/): caches (the response
// cache, the task index, doc counts, the Hub's downloads) under $XDG_CACHE_HOME, else
// ~/.cache; data (the results database) under $XDG_DATA_HOME, else ~/.local/share. The
// spec says a relative path in these variables is invalid and to be ignored; an empty one
// counts as unset. Explicit overrides (RETORT_DB, --cache, HF_HOME, ...) stay with the
// code that reads them.
#pragma once

#include <string>

namespace retort {

// $XDG_CACHE_HOME, else $HOME/.cache; "" when neither gives a folder (no HOME).
std::string user_cache_home();
// $XDG_DATA_HOME, else $HOME/.local/share; "" when neither gives a folder.
std::string user_data_home();

// retort's own folders in them: user_cache_home()/retort and user_data_home()/retort, or
// "" when there is no home.
std::string user_cache_folder();
std::string user_data_folder();

}  // namespace retort
