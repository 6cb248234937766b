// The event log: decoding what callers send, and the log's guarantees on
// both stores (gapless seq, filters, latest seq, watch).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "events/log.h"
#include "support.h"

using namespace fracta;
using namespace fracta::events;

namespace {
const Timestamp kNow{1800000000, 123};

Event decoded(const std::string& json) {
    auto e = event_from_json(Json::parse(json), kNow);
    if (!e.ok()) FAIL(e.error().message);
    return *e;
}

Error rejected(const std::string& json) {
    auto e = event_from_json(Json::parse(json), kNow);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().kind == ErrorKind::Usage);
    return e.error();
}

Event make(const std::string& type, const std::string& actor = "", const std::string& subject = "",
           const std::string& ts = "") {
    Json j = {{"type", type}, {"actor", actor}, {"subject", subject}};
    if (!ts.empty()) j["ts"] = ts;
    return *event_from_json(j, now());
}
}  // namespace

TEST_CASE("a zero or missing ts becomes now; an explicit one is kept verbatim", "[events]") {
    CHECK(decoded(R"({"type":"t"})").ts == format_rfc3339(kNow));
    CHECK(decoded(R"({"type":"t","ts":"0001-01-01T00:00:00Z"})").ts == format_rfc3339(kNow));
    CHECK(decoded(R"({"type":"t","ts":""})").ts == format_rfc3339(kNow));
    CHECK(decoded(R"({"type":"t","ts":"2021-03-04T05:06:07.5+02:00"})").ts == "2021-03-04T05:06:07.5+02:00");
}

TEST_CASE("seq from the caller is ignored, unknown fields too", "[events]") {
    Event e = decoded(R"({"seq":99,"type":"t","actor":"a","subject":"s","message":"m","payload":{"k":[1]},"x":1})");
    CHECK(e.seq == 0);
    CHECK(e.actor == "a");
    CHECK(e.payload == R"({"k":[1]})");
    CHECK(event_line(e) == R"({"seq":0,"type":"t","ts":")" + format_rfc3339(kNow) +
                               R"(","actor":"a","subject":"s","message":"m","payload":{"k":[1]}})");
}

TEST_CASE("empty optional fields are left out of the wire form", "[events]") {
    Event e = decoded(R"({"type":"t"})");
    e.seq = 3;
    CHECK(event_line(e) == R"({"seq":3,"type":"t","ts":")" + format_rfc3339(kNow) + R"(","actor":""})");
}

TEST_CASE("events that would break a reader are rejected", "[events]") {
    CHECK(rejected("[1]").message == "event must be a JSON object");
    CHECK(rejected(R"({"actor":"a"})").message == "event has no \"type\"");
    CHECK(rejected(R"({"type":""})").message == "event has no \"type\"");
    CHECK(rejected(R"({"type":7})").message == "\"type\" must be a string");
    CHECK(rejected(R"({"type":"t","ts":"yesterday"})").message.find("not an RFC 3339 time") == 0);
    std::string big = R"({"type":"t","payload":")" + std::string(70000, 'x') + R"("})";
    CHECK(rejected(big).message.find("event too large") == 0);
}

TEST_CASE("filters accept Gas City's Go names and snake_case", "[events]") {
    auto go = filter_from_json(Json::parse(R"({"Type":"","Actor":"","Since":"0001-01-01T00:00:00Z","AfterSeq":0})"));
    REQUIRE(go.ok());
    CHECK(go->type.empty());
    CHECK_FALSE(go->since.has_value());
    CHECK(go->after_seq == 0);

    auto snake = filter_from_json(Json::parse(
        R"({"type":"a","actor":"b","subject":"c","since":"2024-01-01T12:30:00+01:00","after_seq":4,"limit":2})"));
    REQUIRE(snake.ok());
    CHECK(snake->type == "a");
    CHECK(snake->actor == "b");
    CHECK(snake->subject == "c");
    CHECK(*snake->since == *parse_rfc3339("2024-01-01T11:30:00Z"));
    CHECK(snake->after_seq == 4);
    CHECK(snake->limit == 2);

    auto both = filter_from_json(Json::parse(R"({"Type":"","type":"x"})"));
    CHECK(both->type == "x");

    CHECK_FALSE(filter_from_json(Json::parse(R"({"AfterSeq":-1})")).ok());
    CHECK_FALSE(filter_from_json(Json::parse(R"({"Since":"noon"})")).ok());
    CHECK_FALSE(filter_from_json(Json::parse("[]")).ok());
    CHECK(filter_from_json(Json()).ok());
}

TEST_CASE("the log assigns seq from 1 without gaps and lists in order", "[events][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        EventLog log(*s.store);
        CHECK(*log.latest_seq() == 0);
        CHECK(log.list({})->empty());
        for (int i = 1; i <= 5; ++i) {
            auto seq = log.append(make("t" + std::to_string(i % 2), "a"));
            REQUIRE(seq.ok());
            CHECK(*seq == uint64_t(i));
        }
        auto all = log.list({});
        REQUIRE(all->size() == 5);
        for (size_t i = 0; i < 5; ++i) CHECK((*all)[i].seq == i + 1);
        CHECK(*log.latest_seq() == all->back().seq);
    }
}

TEST_CASE("list filters by type, actor, subject, seq, time and limit", "[events][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        EventLog log(*s.store);
        REQUIRE(log.append(make("x", "alice", "t1", "2024-01-01T10:00:00Z")).ok());
        REQUIRE(log.append(make("y", "bob", "t1", "2024-01-01T12:00:00+00:00")).ok());
        REQUIRE(log.append(make("x", "bob", "t2", "2024-01-01T14:00:00.5+02:00")).ok());  // 12:00:00.5Z

        auto seqs = [&](auto set) {
            Filter f;
            set(f);
            auto listed = log.list(f);
            REQUIRE(listed.ok());
            std::vector<uint64_t> out;
            for (const Event& e : *listed) out.push_back(e.seq);
            return out;
        };
        using V = std::vector<uint64_t>;
        CHECK(seqs([](Filter&) {}) == V{1, 2, 3});
        CHECK(seqs([](Filter& f) { f.type = "x"; }) == V{1, 3});
        CHECK(seqs([](Filter& f) { f.actor = "bob"; }) == V{2, 3});
        CHECK(seqs([](Filter& f) { f.subject = "t1"; }) == V{1, 2});
        CHECK(seqs([](Filter& f) { f.after_seq = 1; }) == V{2, 3});
        CHECK(seqs([](Filter& f) { f.type = "x"; f.actor = "bob"; }) == V{3});
        CHECK(seqs([](Filter& f) { f.type = "none"; }).empty());
        // Times compare as times: 12:30+01:00 is 11:30Z.
        CHECK(seqs([](Filter& f) { f.since = *parse_rfc3339("2024-01-01T12:30:00+01:00"); }) == V{2, 3});
        CHECK(seqs([](Filter& f) { f.since = *parse_rfc3339("2024-01-01T12:00:00.000000001Z"); }) == V{3});
        CHECK(seqs([](Filter& f) { f.limit = 2; }) == V{1, 2});
        CHECK(seqs([](Filter& f) { f.limit = 2; f.newest = true; }) == V{2, 3});
    }
}

TEST_CASE("watch replays after the cursor, then follows new events in order", "[events][pg]") {
    for (auto& s : test::fresh_stores()) {
        INFO(s.kind);
        EventLog log(*s.store);
        for (int i = 0; i < 3; ++i) REQUIRE(log.append(make("before")).ok());

        auto writer_store = store::open(s.url);
        REQUIRE(writer_store.ok());
        // The watch ends when its sink has all 22 events; should an append
        // fail, those never come, so the writer hangs the watch up instead.
        int hangup[2];
        REQUIRE(::pipe(hangup) == 0);
        std::vector<std::string> append_errors;
        std::thread writer([&] {
            EventLog w(**writer_store);
            for (int i = 0; i < 20; ++i)
                if (auto seq = w.append(make("after")); !seq.ok()) append_errors.push_back(seq.error().message);
            if (!append_errors.empty()) ::close(hangup[1]);
        });
        std::vector<uint64_t> seen;
        Status st = log.watch(1, hangup[0], [&](const Event& e) -> Status {
            seen.push_back(e.seq);
            if (seen.size() == 22) return failure("enough");
            return {};
        });
        writer.join();
        ::close(hangup[0]);
        if (append_errors.empty()) ::close(hangup[1]);
        CHECK(append_errors == std::vector<std::string>{});
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message == "enough");
        REQUIRE(seen.size() == 22);
        for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i + 2);
    }
}
