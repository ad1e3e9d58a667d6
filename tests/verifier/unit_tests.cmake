# Unit tests of the pure verifier (included from tests/verifier/CMakeLists.txt).
provgate_test(verifier_unit_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/reference_test.cc ${CMAKE_CURRENT_LIST_DIR}/keys_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/formats_test.cc ${CMAKE_CURRENT_LIST_DIR}/verify_artifact_test.cc
  LIBS verifier)
