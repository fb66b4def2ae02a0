// Seeded random QMP input: mutated valid requests, random JSON and raw bytes, fed in random
// chunks. No crash, no hang, every reply is valid JSON of the right shape.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "system/monitor/qmp.h"
#include "tests/monitor/test_types.h"

namespace corvid::testing {
namespace {

const char* kSeeds[] = {
    R"({"execute": "qmp_capabilities"})",
    R"({"execute": "query-status", "id": 1})",
    R"({"execute": "query-version"})",
    R"({"execute": "query-commands"})",
    R"({"execute": "query-machines"})",
    R"({"execute": "query-accelerators"})",
    R"({"execute": "query-security"})",
    R"({"execute": "qom-list-types", "arguments": {"implements": "device", "abstract": true, "secure": false}})",
    R"({"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}})",
    R"({"execute": "qom-get", "arguments": {"path": "/machine", "property": "type"}})",
    R"({"execute": "device_add", "arguments": {"driver": "test-dev-secure", "id": "d1", "x": [1, {"y": null}]}})",
    R"({"execute": "device_del", "arguments": {"id": "d1"}})",
    R"({"execute": "object-add", "arguments": {"qom-type": "test-obj-undeclared", "id": "o1"}})",
    R"({"execute": "object-del", "arguments": {"id": "o1"}})",
    R"({"execute": "stop"})",
    R"({"execute": "cont"})",
    R"({"execute": "human-monitor-command", "arguments": {"command-line": "info security"}})",
    R"({"execute": "human-monitor-command", "arguments": {"command-line": "xp /4x 0"}})",
    R"({"execute": "query-chardev", "id": "\u00e9\ud83d\ude00"})",
};

const char kAlphabet[] =
    "{}[]\":,\\ \n\t0123456789-+.eEtrufalsn"
    "\xff"
    "\x80"
    "\xc3"
    "\xa9"
    "abcdefxyz_/";

std::string mutate(std::mt19937& rng, std::string s) {
    std::uniform_int_distribution<int> op(0, 5);
    int n = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int k = 0; k < n; ++k) {
        if (s.empty()) s.push_back('{');
        std::uniform_int_distribution<size_t> pos(0, s.size() - 1);
        char c = kAlphabet[std::uniform_int_distribution<size_t>(0, sizeof kAlphabet - 2)(rng)];
        switch (op(rng)) {
            case 0: s[pos(rng)] = c; break;
            case 1: s.insert(s.begin() + long(pos(rng)), c); break;
            case 2: s.erase(pos(rng), 1); break;
            case 3: s = s.substr(0, pos(rng)); break;
            case 4: s += kSeeds[std::uniform_int_distribution<size_t>(0, std::size(kSeeds) - 1)(rng)]; break;
            default: {
                size_t p = pos(rng);
                s.insert(p, std::string(std::uniform_int_distribution<int>(1, 40)(rng), c == '{' ? '[' : c));
                break;
            }
        }
    }
    return s;
}

void check_reply(const std::string& line, size_t* count) {
    ++*count;
    Json j = Json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "invalid JSON reply: " << line;
    ASSERT_TRUE(j.is_object()) << line;
    bool ok = j.contains("return") || j.contains("event") || j.contains("QMP");
    if (j.contains("error")) {
        ok = true;
        ASSERT_TRUE(j["error"]["class"].is_string()) << line;
        ASSERT_TRUE(j["error"]["desc"].is_string()) << line;
    }
    ASSERT_TRUE(ok) << line;
}

TEST(QmpFuzz, RandomInputNeverBreaksTheSession) {
    const uint32_t seed = 0x5eed1234;
    std::mt19937 rng(seed);
    TestVm t;
    size_t replies = 0;
    QmpSession session(*t.vm, [&](const std::string& line) { check_reply(line, &replies); });
    session.start();
    auto start = std::chrono::steady_clock::now();
    const int kInputs = 20000;
    for (int i = 0; i < kInputs; ++i) {
        std::string input;
        int kind = std::uniform_int_distribution<int>(0, 9)(rng);
        if (kind < 6) {
            input = mutate(rng, kSeeds[std::uniform_int_distribution<size_t>(0, std::size(kSeeds) - 1)(rng)]);
        } else if (kind < 8) {
            input = kSeeds[std::uniform_int_distribution<size_t>(0, std::size(kSeeds) - 1)(rng)];
        } else {
            size_t n = std::uniform_int_distribution<size_t>(1, 200)(rng);
            for (size_t k = 0; k < n; ++k) input += char(std::uniform_int_distribution<int>(0, 255)(rng));
        }
        input += '\n';
        // Random chunking: the streamer must not depend on how bytes arrive.
        size_t off = 0;
        while (off < input.size()) {
            size_t n = std::uniform_int_distribution<size_t>(1, input.size() - off)(rng);
            session.feed(reinterpret_cast<const uint8_t*>(input.data() + off), n);
            off += n;
            if (HasFatalFailure()) return;
        }
        if (i % 50 == 49) {
            // 0xFF resets the parser (an unterminated value must not swallow what follows).
            const uint8_t reset[] = {0xff, '\n'};
            session.feed(reset, sizeof reset);
            size_t before = replies;
            std::string probe = R"({"execute": "query-version", "id": "probe"})";
            session.feed(reinterpret_cast<const uint8_t*>(probe.data()), probe.size());
            ASSERT_EQ(replies, before + 1) << "no reply after a reset at input " << i << " (seed " << seed << ")";
        }
    }
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(30));
    EXPECT_GT(replies, size_t(kInputs) / 2);
    // quit was never in the corpus; nothing stopped the (test) run.
    EXPECT_FALSE(t.rc.should_stop());
}

TEST(QmpFuzz, DeepNestingAndHugeTokensAreRejected) {
    TestVm t;
    std::vector<std::string> out;
    QmpSession session(*t.vm, [&](const std::string& line) { out.push_back(line); });
    std::string deep(5000, '[');
    session.feed(reinterpret_cast<const uint8_t*>(deep.data()), deep.size());
    ASSERT_FALSE(out.empty());
    Json j = Json::parse(out.back());
    EXPECT_EQ(j["error"]["desc"], "JSON parse error, nesting too deep");
    out.clear();
    const uint8_t reset[] = {0xff};
    session.feed(reset, 1);
    std::string ok = R"({"execute": "qmp_capabilities"})";
    session.feed(reinterpret_cast<const uint8_t*>(ok.data()), ok.size());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], R"({"return": {}})");
    // A very deep QOM path is an ordinary error.
    Json r = session.handle(Json{{"execute", "qom-list"}, {"arguments", {{"path", std::string(100000, '/') + "x"}}}});
    EXPECT_EQ(r["error"]["class"], "GenericError");
}

}  // namespace
}  // namespace corvid::testing
