# The libFuzzer harnesses: tests/fuzz/<name>_fuzzer.cc each, built as
# fuzz_<name> under PROVGATE_FUZZ (tests/fuzz/CMakeLists.txt) and replayed by
# fuzz_regressions_test in the normal build (tests/fuzz/regressions.cmake).
set(PROVGATE_FUZZ_HARNESSES
  admission_review read_manifests policy_yaml condition reference oci_manifest simple_signing dsse in_toto
  sigstore_bundle trusted_root checkpoint model_signing_statement www_authenticate registry_config
  hostile_registry)
set(PROVGATE_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(PROVGATE_FUZZ_HARNESS_SOURCES)
foreach(name ${PROVGATE_FUZZ_HARNESSES})
  list(APPEND PROVGATE_FUZZ_HARNESS_SOURCES ${PROVGATE_FUZZ_DIR}/${name}_fuzzer.cc)
endforeach()
