#include "webhook/cli_support.h"
#include "webhook/commands.h"

namespace provgate {
int RunVerifyWithPolicies(const VerifyOptions&) {
  return FailInput(InvalidArgument("--policies is not available yet"));
}
}  // namespace provgate
