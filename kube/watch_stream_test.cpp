#include "kube/watch_stream.h"

#include <gtest/gtest.h>

namespace aim::kube {
namespace {

std::string event(const std::string& type, const std::string& name, const std::string& rv) {
  return R"({"type":")" + type + R"(","object":{"kind":"Widget","metadata":{"name":")" + name +
         R"(","resourceVersion":")" + rv + R"("}}})" + "\n";
}

struct Collected {
  std::vector<WatchEvent> events;
  WatchStreamDecoder decoder{[this](WatchEvent&& e) {
    events.push_back(std::move(e));
    return true;
  }};
};

TEST(WatchStreamDecoder, DecodesEventsSplitAtEveryByte) {
  const std::string stream = event("ADDED", "a", "1") + event("MODIFIED", "a", "2") +
                             event("BOOKMARK", "", "3") + event("DELETED", "a", "4");
  // Every split point of every event: the result must not depend on chunk boundaries.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    Collected c;
    bool keep = true;
    ASSERT_TRUE(c.decoder.feed(std::string_view(stream).substr(0, cut), keep).ok());
    ASSERT_TRUE(c.decoder.feed(std::string_view(stream).substr(cut), keep).ok());
    ASSERT_TRUE(c.decoder.finish(keep).ok());
    ASSERT_EQ(c.events.size(), 4u) << "cut at " << cut;
    EXPECT_EQ(c.events[0].type, WatchEvent::Type::kAdded);
    EXPECT_EQ(c.events[1].type, WatchEvent::Type::kModified);
    EXPECT_EQ(c.events[2].type, WatchEvent::Type::kBookmark);
    EXPECT_EQ(c.events[3].type, WatchEvent::Type::kDeleted);
    EXPECT_EQ(c.events[3].object["metadata"]["resourceVersion"], "4");
  }
}

TEST(WatchStreamDecoder, ByteByByte) {
  const std::string stream = event("ADDED", "a", "1") + "\r\n" + event("ADDED", "b", "2");
  Collected c;
  bool keep = true;
  for (char ch : stream) ASSERT_TRUE(c.decoder.feed(std::string_view(&ch, 1), keep).ok());
  ASSERT_TRUE(c.decoder.finish(keep).ok());
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[1].object["metadata"]["name"], "b");
}

TEST(WatchStreamDecoder, ErrorEventBecomesTypedError) {
  Collected c;
  bool keep = true;
  std::string gone =
      R"J({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)J"
      R"J("message":"too old resource version: 5 (10)","reason":"Expired","code":410}})J"
      "\n";
  auto r = c.decoder.feed(event("ADDED", "a", "1") + gone, keep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kGone);
  EXPECT_EQ(c.events.size(), 1u);
}

TEST(WatchStreamDecoder, TruncatedEventAtEndIsANetworkError) {
  Collected c;
  bool keep = true;
  std::string e = event("ADDED", "a", "1");
  ASSERT_TRUE(c.decoder.feed(e + e.substr(0, 20), keep).ok());
  auto r = c.decoder.finish(keep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNetwork);
  EXPECT_EQ(c.events.size(), 1u);
}

TEST(WatchStreamDecoder, FinalEventWithoutNewlineIsAccepted) {
  Collected c;
  bool keep = true;
  std::string e = event("ADDED", "a", "1");
  e.pop_back();
  ASSERT_TRUE(c.decoder.feed(e, keep).ok());
  EXPECT_TRUE(c.decoder.finish(keep).ok());
  EXPECT_EQ(c.events.size(), 1u);
}

TEST(WatchStreamDecoder, GarbageLineIsADecodeError) {
  Collected c;
  bool keep = true;
  auto r = c.decoder.feed("this is not json\n", keep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kDecode);
  auto r2 = c.decoder.feed(R"({"type":"SURPRISE","object":{}})"
                           "\n",
                           keep);
  ASSERT_FALSE(r2.ok());
}

TEST(WatchStreamDecoder, HandlerCanStop) {
  int seen = 0;
  WatchStreamDecoder d([&](WatchEvent&&) { return ++seen < 2; });
  bool keep = true;
  ASSERT_TRUE(
      d.feed(event("ADDED", "a", "1") + event("ADDED", "b", "2") + event("ADDED", "c", "3"), keep)
          .ok());
  EXPECT_FALSE(keep);
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace aim::kube
