# fuzz_regressions_test: the harness bodies of tests/fuzz, compiled by the
# normal build's compiler, replaying tests/fuzz/regressions/<name>/* (every
# finding of a campaign, minimised) and tests/fuzz/corpus/<name>/* (the
# committed seeds). Included from tests/CMakeLists.txt.
include(${CMAKE_CURRENT_LIST_DIR}/harnesses.cmake)
provgate_test(fuzz_regressions_test
  SOURCES ${PROVGATE_FUZZ_DIR}/regressions_test.cc ${PROVGATE_FUZZ_DIR}/fuzz_support.cc ${PROVGATE_FUZZ_HARNESS_SOURCES}
  LIBS server cli)
