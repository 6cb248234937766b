// SHA-256, constant-time comparison and random tokens (gateway token hashing).
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <string_view>

#include "base/sha256.h"

using namespace fracta;

TEST_CASE("SHA-256 matches the FIPS 180-4 example digests", "[sha256]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(std::string(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 pads correctly at the block boundaries", "[sha256]") {
    // Digests of N 'x' bytes, computed with coreutils' sha256sum. 55 bytes is
    // the longest tail that still fits the length in the same block; 56..63
    // need a second padding block; 64 is exactly one block; 119/120 repeat
    // the 55/56 edge after one full block.
    struct Case {
        size_t n;
        const char* digest;
    };
    const Case cases[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
        {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
        {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
        {128, "24da1b81d0b16df6428eee73c69fcb2a93c76bc6df706f0c6670fe6bfe800464"},
    };
    for (const auto& c : cases) {
        INFO("length " << c.n);
        CHECK(sha256_hex(std::string(c.n, 'x')) == c.digest);
    }
}

TEST_CASE("SHA-256 hashes bytes, including NUL and high bytes", "[sha256]") {
    std::string with_nul("a\0b", 3);
    CHECK(sha256_hex(with_nul) != sha256_hex("ab"));
    CHECK(sha256_hex(with_nul).size() == 64);
    std::string high = "\xff\x80\x00\x7f";
    CHECK(sha256_hex(high).find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("constant_time_equal compares bytes and lengths", "[sha256]") {
    using namespace std::string_view_literals;  // "a\0b"sv keeps what follows the NUL
    const struct {
        std::string_view a, b;
        bool equal;
    } cases[] = {
        {"", "", true},
        {"secret-token", "secret-token", true},
        {"secret-token", "secret-tokem", false},  // the last byte
        {"secret-token", "Secret-token", false},  // the first byte
        {"secret", "secret-token", false},        // a prefix, either way round
        {"secret-token", "secret", false},
        {"", "x", false},
        {"a\0b"sv, "a\0b"sv, true},
        {"a\0b"sv, "a\0c"sv, false},  // a byte after a NUL
    };
    for (const auto& c : cases) {
        INFO('"' << c.a << "\" and \"" << c.b << '"');
        CHECK(constant_time_equal(c.a, c.b) == c.equal);
    }
}

TEST_CASE("random_token_hex returns fresh lower-case hex of the asked size", "[sha256]") {
    std::set<std::string> seen;
    for (int i = 0; i < 16; ++i) {
        auto t = random_token_hex(32);
        REQUIRE(t.ok());
        CHECK(t->size() == 64);
        CHECK(t->find_first_not_of("0123456789abcdef") == std::string::npos);
        seen.insert(*t);
    }
    CHECK(seen.size() == 16);
    auto empty = random_token_hex(0);
    REQUIRE(empty.ok());
    CHECK(empty->empty());
    auto big = random_token_hex(1000);  // more than one getrandom call may return
    REQUIRE(big.ok());
    CHECK(big->size() == 2000);
}
