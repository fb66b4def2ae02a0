// Guest memory access (inline softmmu TLB fast path, cold slow paths) and helper calls.
#include <cstddef>
#include <cstring>

#include "backend/x64/block_compiler.h"

namespace corvid::x64 {

using namespace asmjit;
using ir::Opcode;
using ir::Type;

namespace {

constexpr int32_t tlb_field(size_t field) { return int32_t(kCpuTlbOffset + field); }

// Loads `src` (memory of `bytes`) into d as type t, sign-extending when asked.
void load_extended(ax::Assembler& as, const ax::Gp& d, const ax::Mem& src, unsigned bytes, bool sign, Type t) {
    const unsigned tb = type_bytes(t);
    const ax::Gp d32 = ax::gpd(d.id()), d64 = ax::gpq(d.id());
    if (sign && bytes < tb) {
        if (t == Type::I64) {
            if (bytes == 4) {
                as.movsxd(d64, src);
            } else {
                as.movsx(d64, src);
            }
        } else {
            as.movsx(d32, src);
            if (t == Type::I16) as.movzx(d32, ax::gpw(d.id()));
        }
        return;
    }
    const unsigned n = bytes < tb ? bytes : tb;  // little-endian: the low bytes come first
    ax::Mem m = src.cloneResized(n);
    if (n == 8) {
        as.mov(d64, m);
    } else if (n == 4) {
        as.mov(d32, m);
    } else {
        as.movzx(d32, m);
    }
}

}  // namespace

void BlockCompiler::store_pc_imm(uint64_t pc) {
    constexpr int32_t off = int32_t(offsetof(CpuCommon, pc));
    if (int64_t(pc) == int64_t(int32_t(pc))) {
        as_.mov(ax::qword_ptr(ax::r15, off), Imm(int32_t(pc)));
    } else {
        as_.mov(ax::rcx, Imm(int64_t(pc)));
        as_.mov(ax::qword_ptr(ax::r15, off), ax::rcx);
    }
}

namespace {

// `t`, encoded by `body` on first use. `body` returns the offset of the rel32 field to resolve
// later (a `jne` to a cold stub, see emit_jne_field; an exit stub's `jmp`), or 0.
template <typename Body>
const CodeTemplate& cached_template(CodeTemplate& t, Body&& body, const char** error) {
    if (t.len) return t;
    CodeHolder code;
    code.init(Environment::host());
    ax::Assembler as(&code);
    const size_t field = body(as);
    const size_t len = as.offset();
    if (len > sizeof(t.bytes) || (field && field + 4 > len)) {
        if (!*error) *error = "code template does not fit";
        return t;  // len 0: nothing copied, and the compile fails
    }
    std::memcpy(t.bytes, as.bufferData(), len);
    t.field = uint8_t(field);
    t.len = uint8_t(len);
    return t;
}

// `jne rel32` with a zero field (resolved later); returns the field's offset.
size_t emit_jne_field(ax::Assembler& as) {
    static constexpr uint8_t kJne[6] = {0x0F, 0x85, 0, 0, 0, 0};
    as.embed(kJne, sizeof(kJne));
    return as.offset() - 4;
}

// Where asmjit put the 4-byte `field` in what it has just encoded; past the end (which makes
// cached_template refuse the template) when it is not there.
size_t find_field(const ax::Assembler& as, uint32_t field) {
    uint8_t want[4];
    std::memcpy(want, &field, 4);
    const uint8_t* p = as.bufferData();
    const size_t len = as.offset();
    for (size_t k = 1; k + 4 <= len; ++k) {
        if (std::memcmp(p + k, want, 4) == 0) return k;
    }
    return len;
}

constexpr uint32_t kDispPlaceholder = 0x5a5a5a5a;  // never part of these encodings otherwise

}  // namespace

void BlockCompiler::emit_state_access(unsigned reg, unsigned bytes, bool store, int32_t off) {
    const unsigned log2 = bytes == 8 ? 3 : bytes == 4 ? 2 : bytes == 2 ? 1 : 0;
    const CodeTemplate& t =
        cached_template(scratch_.state_access[reg & 15][log2][store ? 1 : 0], [&](ax::Assembler& as) {
            const ax::Mem m = ax::ptr(ax::r15, int32_t(kDispPlaceholder), bytes);
            if (store) {
                as.emit(ax::Inst::kIdMov, m, gp_of(reg, bytes));
            } else if (bytes >= 4) {
                as.mov(gp_of(reg, bytes), m);  // a 32-bit load zero-extends
            } else {
                as.movzx(ax::gpd(reg), m);
            }
            return find_field(as, kDispPlaceholder);
        }, &error_);
    uint8_t code[sizeof(t.bytes)];
    std::memcpy(code, t.bytes, t.len);
    if (t.len) std::memcpy(code + t.field, &off, 4);
    as_.embed(code, t.len);
}

// Block entry: the exit-request check (chained jumps land here).
const CodeTemplate& BlockCompiler::entry_template() {
    return cached_template(scratch_.entry_check, [&](ax::Assembler& as) {
        as.cmp(ax::dword_ptr(ax::r15, int32_t(offsetof(CpuCommon, exit_request))), 0);
        return emit_jne_field(as);
    }, &error_);
}

// Exit stubs: `lea rsi, [data]; jmp rel32` with the data right after the jmp.
const CodeTemplate& BlockCompiler::exit_stub_template() {
    return cached_template(scratch_.exit_stub, [&](ax::Assembler& as) {
        Label data = as.newLabel();
        as.lea(ax::rsi, ax::ptr(data));
        static constexpr uint8_t kJmp[5] = {0xE9, 0, 0, 0, 0};
        as.embed(kJmp, sizeof(kJmp));
        as.bind(data);
        return as.offset() - 4;
    }, &error_);
}

// Indirect exits: rcx = target pc, leaves the block on a lookup-table hit, else falls through.
const CodeTemplate& BlockCompiler::table_probe_template() {
    return cached_template(scratch_.table_probe, [&](ax::Assembler& as) {
        Label miss = as.newLabel();
        emit_table_probe(as, env_.jump_table, miss, ax::rax);
        as.bind(miss);
        return size_t(0);  // no field to resolve
    }, &error_);
}

// Fast path shared by loads and stores: rax = TLB entry offset, rdx = host addend, or a jump to
// the slow path on a miss. 8 instructions before the access itself.
const CodeTemplate& BlockCompiler::tlb_template(unsigned reg, unsigned size, bool store) {
    const unsigned log2 = size == 8 ? 3 : size == 4 ? 2 : size == 2 ? 1 : 0;
    const int32_t tag = tlb_field(store ? offsetof(TlbEntry, write_tag) : offsetof(TlbEntry, read_tag));
    return cached_template(scratch_.tlb_probe[reg & 15][log2][store ? 1 : 0], [&](ax::Assembler& as) {
        const ax::Gp addr = ax::gpq(reg);
        as.mov(ax::rax, addr);
        as.shr(ax::rax, kPageBits - 5);  // entry index * sizeof(TlbEntry)
        as.and_(ax::eax, int32_t((kTlbEntries - 1) << 5));
        as.mov(ax::rdx, addr);
        as.and_(ax::rdx, Imm(int32_t(uint32_t(kPageMask | (size - 1)))));
        as.cmp(ax::rdx, ax::qword_ptr(ax::r15, ax::rax, 0, tag));
        const size_t field = emit_jne_field(as);
        as.mov(ax::rdx, ax::qword_ptr(ax::r15, ax::rax, 0, tlb_field(offsetof(TlbEntry, addend))));
        return field;
    }, &error_);
}
static_assert(sizeof(TlbEntry) == 32, "the fast path scales the index by 32");

void BlockCompiler::embed_template(const CodeTemplate& t, ColdStub& c) {
    c.jcc_field = int32_t(as_.offset() + t.field);
    as_.embed(t.bytes, t.len);
}

void BlockCompiler::emit_load(uint32_t i, const ir::Inst& in) {
    const uint64_t flags = in.imm & (ir::kMemSizeMask | ir::kMemSigned | ir::kMemAlignCheck);
    const unsigned size = ir::mem_size_bytes(flags);
    const bool sign = flags & ir::kMemSigned;
    const Type t = in.type;
    const uint64_t pc = in.pc;

    ax::Gp addr = use_reg(in.args[0]);
    ax::Gp d = def_after(i);
    ColdStub c;
    embed_template(tlb_template(addr.id(), size, false), c);
    load_extended(as_, d, ax::ptr(addr, ax::rdx, 0, 0, size), size, sign, t);

    c.kind = ColdStub::Kind::kSlowLoad;
    c.back = uint32_t(as_.offset());
    c.addr = uint8_t(addr.id());
    c.dst = uint8_t(d.id());
    c.type = t;
    c.flags = flags;
    c.pc = pc;
    cold_.push_back(c);
}

// The slow paths (emit_slow_stub): the thunk saves the allocatable registers, so whatever is
// live survives, and the block resumes at c.back with the load's result in its register.
void BlockCompiler::emit_slow_load(const ColdStub& c) {
    SlowStubData d{};
    d.pc = c.pc;
    d.flags = uint32_t(c.flags);
    d.addr_reg = c.addr;
    d.value_reg = c.dst;
    d.type = uint8_t(c.type);
    emit_slow_stub(env_.thunks.slow_load, d, c.back);
}

void BlockCompiler::emit_store(uint32_t, const ir::Inst& in) {
    const uint64_t flags = in.imm & (ir::kMemSizeMask | ir::kMemAlignCheck);
    const unsigned size = ir::mem_size_bytes(flags);
    const uint64_t pc = in.pc;

    ax::Gp addr = use_reg(in.args[0]);
    Operand value = use_any(in.args[1], size);
    if (value.isMem()) value = gp_of(use_reg(in.args[1]).id(), size);  // mov mem, mem does not exist
    ColdStub c;
    embed_template(tlb_template(addr.id(), size, true), c);
    as_.emit(ax::Inst::kIdMov, ax::ptr(addr, ax::rdx, 0, 0, size), value);

    c.kind = ColdStub::Kind::kSlowStore;
    c.back = uint32_t(as_.offset());
    c.addr = uint8_t(addr.id());
    c.value = value;
    c.size = size;
    c.flags = flags;
    c.pc = pc;
    cold_.push_back(c);
}

void BlockCompiler::emit_slow_store(const ColdStub& c) {
    SlowStubData d{};
    d.pc = c.pc;
    d.flags = uint32_t(c.flags);
    d.addr_reg = c.addr;
    if (c.value.isImm()) {
        const uint64_t mask = c.size == 8 ? ~0ull : (1ull << (8 * c.size)) - 1;
        d.value_reg = SlowStubData::kNoReg;
        d.imm = uint64_t(c.value.as<Imm>().value()) & mask;
    } else {
        d.value_reg = uint8_t(c.value.id());
    }
    emit_slow_stub(env_.thunks.slow_store, d, c.back);
}

void BlockCompiler::emit_call(uint32_t i, const ir::Inst& in) {
    auto* h = reinterpret_cast<const ir::HelperInfo*>(in.imm);
    if (!h || !h->fn) {
        fail("call without a helper");
        return;
    }
    // A helper may fault or look at the state: the pc must be exact and the state in memory
    // (SetState writes through, so only the pc needs storing).
    if (!(h->flags & ir::kHelperPure)) store_pc_imm(in.pc);
    evict_caller_saved(i);
    // rdx/rcx are scratch, so b and c can be loaded first; a may sit in rdi, read before rdi is set.
    if (in.args[1] != ir::kNoValue) load_to(ax::rdx, in.args[1]);
    if (in.args[2] != ir::kNoValue) load_to(ax::rcx, in.args[2]);
    if (in.args[0] != ir::kNoValue) load_to(ax::rsi, in.args[0]);
    as_.mov(ax::rdi, ax::r15);
    as_.mov(ax::rax, Imm(int64_t(reinterpret_cast<uintptr_t>(h->fn))));
    as_.call(ax::rax);
    if (in.op == Opcode::Call) {
        ax::Gp d = def_after(i);
        as_.mov(d, ax::rax);
    }
}

}  // namespace corvid::x64
