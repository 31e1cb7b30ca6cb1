#include "config_file.h"

#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "maqd/error.h"
#include "options.h"

namespace maqd::cli {

std::string find_config_argument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
    if (std::strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
  }
  return "";
}

namespace {
std::set<const CLI::Option*>& options_from_config_file() {
  static std::set<const CLI::Option*> options;
  return options;
}
}  // namespace

bool set_by_config_file(const CLI::Option& option) { return options_from_config_file().count(&option) > 0; }

void apply_config_file(CLI::App& cmd, const std::string& path) {
  // A folder opens as an empty stream, which toml++ would read as an empty
  // table: the run would start with every default.
  check(!std::filesystem::is_directory(path), path.c_str(), "is a folder; expected a readable TOML file (--config)");
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << path << ": ";
    // toml++ reports a file it could not open at line 0.
    if (e.source().begin.line > 0) where << "line " << e.source().begin.line << ": ";
    where << e.description();
    if (e.source().begin.line == 0) where << "; expected a readable TOML file (--config)";
    throw Error(where.str());
  }
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    CLI::Option* option = nullptr;
    try {
      option = cmd.get_option("--" + name);
    } catch (const CLI::OptionNotFound&) {
    }
    check(option != nullptr && name != "config" && name != "help", path.c_str(), "unknown key '",
          name, "'; expected a long option of 'maqd ", cmd.get_name(), "' (see --help)");
    std::string value;
    if (const auto* s = node.as_string()) value = s->get();
    else if (const auto* b = node.as_boolean()) value = b->get() ? "true" : "false";
    else if (const auto* n = node.as_integer()) value = std::to_string(n->get());
    else if (const auto* f = node.as_floating_point()) {
      std::ostringstream text;
      text.precision(17);
      text << f->get();
      value = text.str();
    } else {
      throw Error(path + ": key '" + name + "' holds a table or array; expected a string, number or boolean");
    }
    options_from_config_file().insert(option);
    try {
      option->default_val(value);
    } catch (const CLI::ConversionError&) {  // CLI11 says only "Could not convert"
      throw Error(path + ": key '" + name + "' is " + value + "; expected " + expected_value(*option));
    } catch (const CLI::Error& e) {
      throw Error(path + ": key '" + name + "' = " + value + ": " + e.what());
    }
  }
}

}  // namespace maqd::cli
