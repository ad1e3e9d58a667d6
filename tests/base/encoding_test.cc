#include <doctest/doctest.h>

#include "base/encoding.h"
#include "base/json_util.h"
#include "base/status.h"

#include <chrono>
#include <functional>
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
  const char* bad[] = {"Zm9v!", "Zm9 v", "Zm9v\t", "Z", "Zm9vY===", "Zh==", "Zm=9", "Zm9v\nY==="};
  for (const char* b : bad) {
    CAPTURE(b);
    CHECK_FALSE(Base64Decode(b).has_value());
  }
}

TEST_CASE("base64 wrapped in lines decodes as Go's decoders read it (CR and LF skipped anywhere)") {
  std::string bytes;
  for (int i = 0; i < 200; ++i) bytes += static_cast<char>(i * 7);
  std::string flat = Base64Encode(bytes), wrapped, crlf;
  for (size_t i = 0; i < flat.size(); i += 76) {
    wrapped += flat.substr(i, 76) + "\n";  // GNU base64's layout
    crlf += flat.substr(i, 76) + "\r\n";
  }
  CHECK(*Base64Decode(wrapped) == bytes);
  CHECK(*Base64Decode(crlf) == bytes);
  CHECK(*Base64Decode("Zm\n9v\n") == "foo");
  CHECK_FALSE(Base64Decode("Zm 9v").has_value());  // other whitespace still refused
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

TEST_CASE("ParseJsonUniqueKeys: a key twice in one object is refused, at any depth") {
  // Parsers disagree on which duplicate wins (nlohmann and Go: the last,
  // simdjson: the first, serde: an error), so a signed document with one
  // means different things to different verifiers.
  const char* must_parse[] = {
      R"({"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]})",
      R"({"a":{"a":{"a":1}}})",
      R"([{"x":1},{"x":2}])",
      R"({"A":1,"a":2})",  // distinct keys (Go-folding is RejectGoFoldedKeys' job)
      R"("just a string")",
  };
  for (const char* text : must_parse) {
    CAPTURE(text);
    auto j = ParseJsonUniqueKeys(text, "doc");
    CHECK_MESSAGE(j.ok(), j.status().ToString());
  }
  struct Row {
    const char* text;
    const char* reason;
  };
  const Row must_fail[] = {
      {R"({"a":1,"a":2})", "doc: key \"a\" appears twice in one object"},
      {R"({"a":1,"\u0061":2})", "key \"a\" appears twice"},  // the same key once decoded
      {R"({"x":{"y":{"z":1,"z":1}}})", "key \"z\" appears twice"},
      {R"([{"ok":1},{"k":1,"k":[]}])", "key \"k\" appears twice"},
      {R"({"a":)", "malformed JSON"},
  };
  for (const auto& r : must_fail) {
    CAPTURE(r.text);
    auto j = ParseJsonUniqueKeys(r.text, "doc");
    REQUIRE_FALSE(j.ok());
    CHECK(j.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(j.status().message().find(r.reason) != std::string::npos, j.status().message());
  }
  // The depth bound still applies before parsing.
  auto deep = ParseJsonUniqueKeys(std::string(10000, '['), "deep");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().message().find("nested deeper than 64") != std::string::npos);
  // ParseJson itself keeps nlohmann's last-wins behaviour for trusted inputs.
  CHECK((*ParseJson(R"({"a":1,"a":2})", "doc"))["a"] == 2);
}

// A JSON tree costs up to ~80 bytes per value ("{},{},..." is 28 times its
// size in memory): documents parsed before anything about them is trusted
// bound their number of values, counted by the linear pre-scan.
TEST_CASE("ParseJsonUniqueKeys bounds the number of values before building a tree") {
  JsonLimits limits;
  limits.max_values = 8;
  const char* fit[] = {"[1,2,3,4,5,6,7]", R"({"a":1,"b":[2,3],"c":{"d":4}})", R"("[,,,,,,,,,,]")", R"({"k":"a,b,c,d,e,f,g,h,i"})"};
  for (const char* text : fit) {
    CAPTURE(text);
    auto j = ParseJsonUniqueKeys(text, "doc", limits);
    CHECK_MESSAGE(j.ok(), j.status().ToString());
  }
  const char* too_many[] = {"[1,2,3,4,5,6,7,8,9]", "[[],[],[],[],[],[],[],[],[]]", R"({"a":{},"b":{},"c":{},"d":{},"e":{}})"};
  for (const char* text : too_many) {
    CAPTURE(text);
    auto j = ParseJsonUniqueKeys(text, "doc", limits);
    REQUIRE_FALSE(j.ok());
    CHECK(j.status().code() == StatusCode::kResourceExhausted);
    CHECK_MESSAGE(j.status().message().find("doc: more than 8 JSON values") != std::string::npos, j.status().message());
  }
  // No bound unless one is asked for.
  std::string big = "[0";
  for (int i = 0; i < 50000; ++i) big += ",0";
  CHECK(ParseJsonUniqueKeys(big + "]", "doc").ok());
}

TEST_CASE("ParseJsonTopLevelMembers keeps only the named members, storing nothing else") {
  auto j = ParseJsonTopLevelMembers(R"({"a":1,"big":[{},{"x":[1,2]}],"b":{"c":"d"},"z":2})", "doc", {"a", "b"});
  REQUIRE_MESSAGE(j.ok(), j.status().ToString());
  CHECK(*j == Json{{"a", 1}, {"b", {{"c", "d"}}}});
  CHECK(ParseJsonTopLevelMembers("[1,2]", "doc", {"a"})->is_null());  // not an object: nothing kept
  CHECK_FALSE(ParseJsonTopLevelMembers(R"({"a":)", "doc", {"a"}).ok());
  CHECK_FALSE(ParseJsonTopLevelMembers(std::string(100, '[') + std::string(100, ']'), "doc", {"a"}).ok());
}

// nlohmann's callback parser rescans a container for discarded entries at
// every nested object's end: quadratic in the array's length. Duplicate
// detection and member filtering must stay linear, like ParseJson.
TEST_CASE("ParseJsonUniqueKeys and ParseJsonTopLevelMembers take linear time") {
  std::string objects = R"({"a":[{})";
  for (int i = 1; i < 200000; ++i) objects += ",{}";
  objects += "]}";
  auto seconds = [](const std::function<bool()>& f) {
    auto start = std::chrono::steady_clock::now();
    CHECK(f());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double plain = seconds([&] { return ParseJson(objects, "doc").ok(); });
  double unique = seconds([&] { return ParseJsonUniqueKeys(objects, "doc").ok(); });
  double members = seconds([&] { return ParseJsonTopLevelMembers(objects, "doc", {"a"}).ok(); });
  CHECK_MESSAGE(unique < 10 * plain + 0.5, "ParseJson " << plain << " s, ParseJsonUniqueKeys " << unique << " s");
  CHECK_MESSAGE(members < 10 * plain + 0.5, "ParseJson " << plain << " s, ParseJsonTopLevelMembers " << members << " s");
}

TEST_CASE("RejectGoFoldedKeys: keys Go's encoding/json would match to a field, but that are not the field") {
  // Go matches JSON keys to struct fields case-insensitively, and folds the
  // Kelvin sign U+212A to k and the long s U+017F to s.
  Json ok = *ParseJson(R"({"critical":{},"optional":null,"other":1,"Other":2})", "doc");
  CHECK(RejectGoFoldedKeys(ok, {"critical", "optional"}, "payload").ok());
  struct Row {
    const char* text;
    const char* reason;
  };
  const Row must_fail[] = {
      {R"({"Critical":{}})", "payload: key \"Critical\" would be read as \"critical\""},
      {R"({"critical":{},"CRITICAL":{}})", "key \"CRITICAL\" would be read as \"critical\""},
      {R"({"OPTIONAL":null})", "would be read as \"optional\""},
      {"{\"\u017Fig\":\"x\"}", "would be read as \"sig\""},                  // long s
      {"{\"\u212Aeyid\":\"x\"}", "would be read as \"keyid\""},              // Kelvin sign
      {"{\"doc\u212Aer-manifest-digest\":\"x\"}", "would be read as \"docker-manifest-digest\""},
  };
  for (const auto& r : must_fail) {
    CAPTURE(r.text);
    auto j = ParseJson(r.text, "doc");
    REQUIRE_MESSAGE(j.ok(), j.status().ToString());
    Status s = RejectGoFoldedKeys(*j, {"critical", "optional", "sig", "keyid", "docker-manifest-digest"}, "payload");
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(s.message().find(r.reason) != std::string::npos, s.message());
  }
  // Not an object: nothing to check.
  CHECK(RejectGoFoldedKeys(Json::array(), {"a"}, "x").ok());
  // Other non-ASCII keys never fold to an ASCII field.
  CHECK(RejectGoFoldedKeys(*ParseJson("{\"\u00e9\":1,\"sig\u00e9\":2}", "doc"), {"sig"}, "x").ok());
}

TEST_CASE("Quote escapes and truncates") {
  CHECK(Quote("a\"b\n") == "\"a\\\"b\\n\"");
  CHECK(Quote(std::string(10, 'x'), 4) == "\"xxxx...\"");
}

// Messages end up in JSON documents; nlohmann refuses to serialise invalid
// UTF-8, so what quotes untrusted bytes must never produce it.
TEST_CASE("Quote and EscapeInvalidUtf8 always produce valid UTF-8, and IsUtf8 tells which input was not") {
  const std::string euro = "\xe2\x82\xac";
  // A truncation never splits a character: it stops before one that does not fit.
  CHECK(Quote(euro + euro, 4) == "\"" + euro + "...\"");
  CHECK(Quote(euro + euro, 6) == "\"" + euro + euro + "\"");
  CHECK(Quote("\xc3\xa9t\xc3\xa9") == "\"\xc3\xa9t\xc3\xa9\"");  // valid sequences are kept
  struct Row {
    std::string in, quoted;
  };
  const Row rows[] = {
      {"a\xff", "\"a\\xff\""},                       // not a lead byte
      {"\xc3", "\"\\xc3\""},                          // truncated sequence
      {"\xc3(", "\"\\xc3(\""},                        // bad continuation
      {"\xc0\xaf", "\"\\xc0\\xaf\""},                 // overlong '/'
      {"\xed\xa0\x80", "\"\\xed\\xa0\\x80\""},        // UTF-16 surrogate
      {"\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\""},  // above U+10FFFF
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    CHECK(Quote(r.in) == r.quoted);
    CHECK(EscapeInvalidUtf8(r.in) == r.quoted.substr(1, r.quoted.size() - 2));
    CHECK_FALSE(IsUtf8(r.in));
  }
  CHECK(EscapeInvalidUtf8("plain " + euro) == "plain " + euro);
  CHECK(IsUtf8("plain " + euro + "\xf0\x9f\x98\x80"));
  CHECK(IsUtf8(""));
  // ParseJson's own messages echo what it read: also escaped.
  auto bad = ParseJson("[\"\xff\"]", "doc");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("\xff") == std::string::npos);
  CHECK_NOTHROW(Json(bad.status().message()).dump());
}

TEST_CASE("PrintableLine writes control bytes and invalid UTF-8 as \\xNN, and keeps the rest") {
  CHECK(PrintableLine("a\nb\rc\td\x1b\x7f") == "a\\x0ab\\x0dc\\x09d\\x1b\\x7f");
  CHECK(PrintableLine(std::string("x\0y", 3)) == "x\\x00y");
  CHECK(PrintableLine("caf\xc3\xa9 \xff") == "caf\xc3\xa9 \\xff");
  CHECK(PrintableLine("plain \"quoted\" \\") == "plain \"quoted\" \\");
}

TEST_CASE("TruncateUtf8 keeps short strings and cuts long ones before a character, never inside one") {
  CHECK(TruncateUtf8("abc", 3) == "abc");
  CHECK(TruncateUtf8("abcd", 3) == "abc...");
  CHECK(TruncateUtf8("", 0) == "");
  // "é" is two bytes, "€" three: a cut that would split one goes before it.
  CHECK(TruncateUtf8("a\xc3\xa9z", 2) == "a...");
  CHECK(TruncateUtf8("a\xc3\xa9z", 3) == "a\xc3\xa9...");
  CHECK(TruncateUtf8("\xe2\x82\xac\xe2\x82\xac", 4) == "\xe2\x82\xac...");
  CHECK(TruncateUtf8("\xe2\x82\xac\xe2\x82\xac", 2) == "...");
  for (size_t n = 0; n <= 12; ++n) {
    CAPTURE(n);
    std::string out = TruncateUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!", n);
    CHECK_NOTHROW(Json(out).dump());  // nlohmann's dump refuses invalid UTF-8
  }
}
