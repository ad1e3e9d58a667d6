// The one bounded file reader: policy files, keys, trust material, registry
// and docker configs, manifests and predicates are all read through it.
// Thread-safe.
#pragma once

#include <string>

#include "base/status.h"

namespace provgate {

// Reads the whole regular file at `path`, of at most `max_bytes`. Never
// blocks on a FIFO or a device: anything but a regular file (after
// symlinks) is refused. Fails with InvalidArgument whose message is the
// reason without the path ("No such file or directory", "not a regular
// file", "larger than N bytes").
StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes);

}  // namespace provgate
