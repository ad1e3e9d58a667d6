#include <doctest/doctest.h>

#include "base/encoding.h"
#include "base/json_util.h"
#include "base/status.h"

#include <vector>

using namespace provgate;

TEST_CASE("base64 round trips and accepts the URL-safe alphabet") {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    auto enc = Base64Encode(s);
    auto dec = Base64Decode(enc);
    REQUIRE(dec.has_value());
    CHECK(*dec == s);
  }
  CHECK(Base64Encode("foobar") == "Zm9vYmFy");
  CHECK(*Base64Decode("-_8") == std::string("\xfb\xff"));   // URL-safe
  CHECK(*Base64Decode("+/8=") == std::string("\xfb\xff"));  // standard, padded
  CHECK(*Base64Decode("Zm8") == "fo");                     // unpadded
}

TEST_CASE("base64 rejects malformed input") {
  const char* bad[] = {"Zm9v!", "Zm9 v", "Z", "Zm9vY===", "Zh==", "Zm=9", "Zm9v\n"};
  for (const char* b : bad) {
    CAPTURE(b);
    CHECK_FALSE(Base64Decode(b).has_value());
  }
}

TEST_CASE("hex codec") {
  CHECK(HexEncode(std::string("\x00\xab", 2)) == "00ab");
  CHECK(*HexDecode("00AB") == std::string("\x00\xab", 2));
  CHECK_FALSE(HexDecode("abc").has_value());
  CHECK_FALSE(HexDecode("zz").has_value());
  CHECK(IsLowerHex("0123abcdef"));
  CHECK_FALSE(IsLowerHex("ABC"));
}

TEST_CASE("ParseJson bounds depth and reports malformed input") {
  CHECK(ParseJson(R"({"a":[1,2,{"b":null}]})", "doc").ok());
  auto bad = ParseJson(R"({"a":)", "doc");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message().find("doc: malformed JSON") == 0);
  std::string deep(10000, '[');
  auto d = ParseJson(deep, "deep");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("nested deeper than 64") != std::string::npos);
  // Brackets inside strings do not count.
  CHECK(ParseJson("\"" + std::string(100, '[') + "\"", "s").ok());
  CHECK_FALSE(ParseJson("{} trailing", "t").ok());
}

TEST_CASE("Quote escapes and truncates") {
  CHECK(Quote("a\"b\n") == "\"a\\\"b\\n\"");
  CHECK(Quote(std::string(10, 'x'), 4) == "\"xxxx...\"");
}
