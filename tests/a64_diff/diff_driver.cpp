// The differential fuzzing loop (see diff_driver.h).
#include "tests/a64_diff/diff_driver.h"

#include <cstring>
#include <random>
#include <string_view>

#include <fmt/format.h>

#include "tests/a64_diff/known_bugs.h"

namespace corvid::a64diff {
namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

constexpr size_t kMaxWords = 8;

// Everything one fuzzing session owns: the shared code area and the three machines.
struct Rig {
    Rig() : code(kCodeSize) {
        for (size_t off = 0; off < kCodeSize; off += 4) std::memcpy(code.data() + off, &kWfiWord, 4);
        std::memcpy(code.data() + (kSlot - 4 - kCodeBase), &kClrexWord, 4);
        uc = std::make_unique<UnicornRunner>(code.data());
        interp = std::make_unique<CorvidRunner>(CorvidBackend::kInterp, code.data());
        jit = std::make_unique<CorvidRunner>(CorvidBackend::kJit, code.data());
    }

    void load(const std::vector<uint32_t>& words) {
        uint8_t* slot = code.data() + (kSlot - kCodeBase);
        for (size_t i = 0; i < kMaxWords; ++i) {
            const uint32_t w = i < words.size() ? words[i] : kWfiWord;
            std::memcpy(slot + 4 * i, &w, 4);
        }
        uc->code_changed(kSlot, 4 * kMaxWords);
        interp->code_changed(kSlot, 4 * kMaxWords);
        jit->code_changed(kSlot, 4 * kMaxWords);
    }

    // Unicorn's data window is the reference: copy it to both Corvid machines.
    void resync_data() {
        std::memcpy(interp->data(), uc->data(), kDataSize);
        std::memcpy(jit->data(), uc->data(), kDataSize);
    }

    void fill_data(uint64_t seed) {
        std::mt19937_64 rng(seed);
        for (uint64_t i = 0; i < kDataSize; i += 8) {
            const uint64_t v = rng();
            std::memcpy(uc->data() + i, &v, 8);
        }
        std::memcpy(interp->data(), uc->data(), kDataSize);
        std::memcpy(jit->data(), uc->data(), kDataSize);
    }

    std::vector<uint8_t> code;
    std::unique_ptr<UnicornRunner> uc;
    std::unique_ptr<CorvidRunner> interp;
    std::unique_ptr<CorvidRunner> jit;
};

std::string describe_code(CorvidRunner& r, const TestCase& tc) {
    std::string s;
    for (size_t i = 0; i < tc.words.size(); ++i) {
        size_t len = 0;
        const uint32_t w = tc.words[i];
        s += fmt::format("    0x{:08x}  {:<40} [{}]\n", w,
                         r.frontend().disassemble(kSlot + 4 * i, reinterpret_cast<const uint8_t*>(&w), 4, &len),
                         row_name(w));
    }
    return s;
}

std::string describe_state(const ArchState& s) {
    std::string out;
    for (int i = 0; i < 31; ++i) out += fmt::format("x{}=0x{:x}{}", i, s.x[i], i % 6 == 5 ? "\n      " : " ");
    out += fmt::format("sp=0x{:x} pc=0x{:x} nzcv={:04b}", s.sp, s.pc, s.nzcv);
    return out;
}

// Differences between Unicorn's outcome and one Corvid backend's; empty when they agree.
std::string compare(const Outcome& want, const Outcome& got, const uint8_t* want_data, const uint8_t* got_data) {
    std::string d;
    if (got.fault.rfind("corvid ERROR", 0) == 0) return "    " + got.fault + "\n";
    if (want.kind != got.kind) {
        auto what = [](const Outcome& o) { return o.kind == Outcome::Kind::kOk ? std::string("no fault") : o.fault; };
        d += fmt::format("    fault: expected [{}] got [{}]\n", what(want), what(got));
        if (want.kind == Outcome::Kind::kOk) d += fmt::format("    expected end pc 0x{:x}\n", want.state.pc);
        return d;
    }
    if (want.kind == Outcome::Kind::kOk) {
        for (int i = 0; i < 31; ++i) {
            if (want.state.x[i] != got.state.x[i]) {
                d += fmt::format("    x{}: expected 0x{:x} got 0x{:x}\n", i, want.state.x[i], got.state.x[i]);
            }
        }
        if (want.state.sp != got.state.sp) d += fmt::format("    sp: expected 0x{:x} got 0x{:x}\n", want.state.sp, got.state.sp);
        if (want.state.pc != got.state.pc) d += fmt::format("    pc: expected 0x{:x} got 0x{:x}\n", want.state.pc, got.state.pc);
        if (want.state.nzcv != got.state.nzcv) {
            d += fmt::format("    nzcv: expected {:04b} got {:04b}\n", want.state.nzcv, got.state.nzcv);
        }
    }
    if (std::memcmp(want_data, got_data, kDataSize) != 0) {
        int shown = 0;
        for (uint64_t i = 0; i < kDataSize && shown < 16; ++i) {
            if (want_data[i] != got_data[i]) {
                d += fmt::format("    mem[0x{:x}]: expected 0x{:02x} got 0x{:02x}\n", kDataBase + i, want_data[i], got_data[i]);
                ++shown;
            }
        }
    }
    return d;
}

// Unicorn's CLREX sets QEMU's exclusive_addr to -1, so a store-exclusive to address ~0 (a
// value the generator likes) "matches" the cleared monitor and performs the access, faulting
// where the architecture (and Corvid) just fail the store. The fault pc and registers are
// precise, so the case is recognised from Unicorn's final state.
bool unicorn_artifact(const TestCase& tc, const Outcome& want) {
    if (want.kind != Outcome::Kind::kFault || want.state.pc < kSlot) return false;
    const uint64_t index = (want.state.pc - kSlot) / 4;
    if (index >= tc.words.size()) return false;
    const uint32_t w = tc.words[index];
    if (tc.ops[index] == A64Op::kCount) return false;
    if (std::string_view(a64_encodings()[size_t(tc.ops[index])].handler) != "store_exclusive") return false;
    const unsigned n = (w >> 5) & 31;
    return (n == 31 ? want.state.sp : want.state.x[n]) == ~0ull;
}

// Unicorn 2 is QEMU 5, which does not check the alignment of LDAR/STLR; the Arm ARM requires
// an Alignment fault there (AccType_ORDERED), as Corvid raises. Recognised from Corvid's ESR
// (data abort, DFSC 0x21) and the row at ELR.
bool unicorn_misses_ordered_alignment(const TestCase& tc, const Outcome& want, const Outcome& got) {
    constexpr uint64_t kEcDataAbortSame = 0x25, kDfscAlignment = 0x21;
    if (want.kind != Outcome::Kind::kOk || got.kind != Outcome::Kind::kFault) return false;
    if ((got.esr >> 26) != kEcDataAbortSame || (got.esr & 0x3f) != kDfscAlignment || got.elr < kSlot) return false;
    const uint64_t index = (got.elr - kSlot) / 4;
    return index < tc.words.size() && tc.ops[index] != A64Op::kCount &&
           std::string_view(a64_encodings()[size_t(tc.ops[index])].handler) == "load_store_ordered";
}

}  // namespace

uint64_t case_seed(uint64_t seed, uint32_t shard, uint64_t index) {
    return splitmix64(splitmix64(seed) ^ (uint64_t(shard) << 48) ^ index);
}

FuzzResult run_fuzz(const FuzzOptions& o) {
    FuzzResult res;
    Rig rig;
    if (!rig.uc->ok()) {
        res.setup_error = rig.uc->error();
        return res;
    }
    const InsnGenerator gen;
    rig.fill_data(splitmix64(o.seed ^ o.shard));
    size_t printed = 0;
    for (uint64_t i = 0; i < o.count; ++i) {
        const uint64_t cs = case_seed(o.seed, o.shard, i);
        const TestCase tc = gen.make_case(cs);
        rig.load(tc.words);
        ++res.cases;
        res.instructions += tc.words.size();

        const Outcome want = rig.uc->run(tc.init, unsigned(tc.words.size()));
        const bool back_into_test_code = want.kind == Outcome::Kind::kOk && want.state.pc >= kSlot - 4 &&
                                         want.state.pc < kSlot + 4 * tc.words.size();
        if (back_into_test_code || (want.state.pc >= kDataBase && want.state.pc < kDataBase + kDataSize)) {
            // Unicorn stops after the instruction count; Corvid only stops at a WFI, so it would
            // go on executing the data as code, or loop in the test code (e.g. br to itself).
            ++res.unverifiable;
            rig.resync_data();
            continue;
        }
        ArchState corvid_init = tc.init;
        for (auto& x : corvid_init.x) x ^= o.inject_xor_x;
        const Outcome got_i = rig.interp->run(corvid_init);
        const Outcome got_j = rig.jit->run(corvid_init);

        std::string di, dj;
        if (unicorn_artifact(tc, want) || unicorn_misses_ordered_alignment(tc, want, got_i) ||
            unicorn_misses_ordered_alignment(tc, want, got_j)) {
            // Unicorn is not a reference here, but the interpreter and the JIT must still agree.
            ++res.unverifiable;
            dj = compare(got_i, got_j, rig.interp->data(), rig.jit->data());
            if (dj.empty()) {
                rig.resync_data();
                continue;
            }
            dj = "  (compared with the interpreter: Unicorn deviates here)\n" + dj;
        } else {
            di = compare(want, got_i, rig.uc->data(), rig.interp->data());
            dj = compare(want, got_j, rig.uc->data(), rig.jit->data());
        }
        if (di.empty() && dj.empty()) {
            if (want.kind == Outcome::Kind::kOk) {
                ++res.compared;
                if (tc.words.size() == 1) ++res.compared_by_row[row_name(tc.words[0])];
            } else {
                ++res.both_faulted;
            }
        } else {
            const KnownBug* bug = nullptr;
            for (uint32_t w : tc.words) {
                if (!bug) bug = find_known_bug(w);
            }
            if (bug) {
                ++res.known_bug_hits;
                ++res.known_by_id[bug->id];
            } else {
                ++res.mismatches;
                for (uint32_t w : tc.words) ++res.mismatches_by_row[row_name(w)];
            }
            if (!bug && printed < o.max_printed) {
                ++printed;
                res.report += fmt::format(
                    "MISMATCH (seed 0x{:x} shard {} case {}; replay: CORVID_DIFF_REPLAY=0x{:x})\n{}  initial: {}\n",
                    o.seed, o.shard, i, cs, describe_code(*rig.interp, tc), describe_state(tc.init));
                if (want.kind == Outcome::Kind::kOk) res.report += "  unicorn: " + describe_state(want.state) + "\n";
                if (!di.empty()) res.report += "  interp differs:\n" + di;
                if (!dj.empty()) res.report += "  jit differs:\n" + dj;
            }
            // Re-synchronise the data windows so that one bug does not cascade.
            rig.resync_data();
        }
        if (o.verbose) {
            res.report += fmt::format("case 0x{:x}\n{}  initial: {}\n  unicorn: {} {}\n  interp: {} {}\n  jit: {} {}\n", cs,
                                      describe_code(*rig.interp, tc), describe_state(tc.init),
                                      describe_state(want.state), want.fault, describe_state(got_i.state), got_i.fault,
                                      describe_state(got_j.state), got_j.fault);
        }
    }
    return res;
}

std::string replay_case(uint64_t cs) {
    Rig rig;
    if (!rig.uc->ok()) return rig.uc->error();
    const InsnGenerator gen;
    const TestCase tc = gen.make_case(cs);
    rig.fill_data(cs);
    rig.load(tc.words);
    const Outcome want = rig.uc->run(tc.init, unsigned(tc.words.size()));
    const Outcome got_i = rig.interp->run(tc.init);
    const Outcome got_j = rig.jit->run(tc.init);
    std::string s = fmt::format("case 0x{:x}\n{}  initial: {}\n", cs, describe_code(*rig.interp, tc), describe_state(tc.init));
    s += fmt::format("  unicorn: {} {}\n  interp:  {} {}\n  jit:     {} {}\n", describe_state(want.state), want.fault,
                     describe_state(got_i.state), got_i.fault, describe_state(got_j.state), got_j.fault);
    s += "  interp differences:\n" + compare(want, got_i, rig.uc->data(), rig.interp->data());
    s += "  jit differences:\n" + compare(want, got_j, rig.uc->data(), rig.jit->data());
    return s;
}

}  // namespace corvid::a64diff
