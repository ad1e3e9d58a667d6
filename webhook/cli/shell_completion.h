// `provgate completion bash|zsh`: a completion script generated from the
// command tree itself (CLI11 has none), so it lists exactly the
// subcommands and flags the binary accepts. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace provgate {

// One command of the tree: its name, its flags ("-f", "--filename", ...;
// hidden ones, of group "", left out) and its subcommands.
struct CompletionCommand {
  std::string name;
  std::vector<std::string> flags;
  std::vector<CompletionCommand> subcommands;
};

// The tree under `app` (its name is `name`), walked at run time.
CompletionCommand CompletionTree(const CLI::App& app, const std::string& name);

// The script for `shell` ("bash" or "zsh"; zsh loads it through
// bashcompinit). Empty for another shell.
std::string CompletionScript(const CompletionCommand& root, const std::string& shell);

}  // namespace provgate
