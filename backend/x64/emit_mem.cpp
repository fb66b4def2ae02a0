// Guest memory access (inline softmmu TLB fast path, cold slow paths) and helper calls.
#include <cstddef>

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

// Truncates the slow path's 64-bit result in rax to type t.
void from_rax(ax::Assembler& as, const ax::Gp& d, Type t) {
    switch (t) {
        case Type::I64: as.mov(ax::gpq(d.id()), ax::rax); break;
        case Type::I32: as.mov(ax::gpd(d.id()), ax::eax); break;
        case Type::I16: as.movzx(ax::gpd(d.id()), ax::ax); break;
        default: as.movzx(ax::gpd(d.id()), ax::al); break;
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

// Fast path shared by loads and stores: rax = TLB entry offset, rdx = host addend, or a jump to
// `slow` on a miss. 8 instructions before the access itself.
static void tlb_lookup(ax::Assembler& as, const ax::Gp& addr, unsigned size, size_t tag_field, const Label& slow) {
    as.mov(ax::rax, addr);
    as.shr(ax::rax, kPageBits - 5);  // entry index * sizeof(TlbEntry)
    as.and_(ax::eax, int32_t((kTlbEntries - 1) << 5));
    as.mov(ax::rdx, addr);
    as.and_(ax::rdx, Imm(int32_t(uint32_t(kPageMask | (size - 1)))));
    as.cmp(ax::rdx, ax::qword_ptr(ax::r15, ax::rax, 0, tlb_field(offsetof(TlbEntry, read_tag) + tag_field)));
    as.jne(slow);
    as.mov(ax::rdx, ax::qword_ptr(ax::r15, ax::rax, 0, tlb_field(offsetof(TlbEntry, addend))));
}
static_assert(sizeof(TlbEntry) == 32, "the fast path scales the index by 32");

void BlockCompiler::emit_load(uint32_t i, const ir::Inst& in) {
    const uint64_t flags = in.imm & (ir::kMemSizeMask | ir::kMemSigned | ir::kMemAlignCheck);
    const unsigned size = ir::mem_size_bytes(flags);
    const bool sign = flags & ir::kMemSigned;
    const Type t = in.type;
    const uint64_t pc = in.pc;

    ax::Gp addr = use_reg(in.args[0]);
    ax::Gp d = def_after(i);
    const uint32_t live = live_caller_saved(i);
    Label slow = as_.newLabel(), back = as_.newLabel();
    tlb_lookup(as_, addr, size, 0, slow);
    load_extended(as_, d, ax::ptr(addr, ax::rdx, 0, 0, size), size, sign, t);
    as_.bind(back);

    ColdStub c;
    c.kind = ColdStub::Kind::kSlowLoad;
    c.label = slow;
    c.back = back;
    c.addr = uint8_t(addr.id());
    c.dst = uint8_t(d.id());
    c.type = t;
    c.live = live;
    c.flags = flags;
    c.pc = pc;
    cold_.push_back(c);
}

void BlockCompiler::emit_slow_load(const ColdStub& c) {
    as_.bind(c.label);
    save_regs(c.live);
    store_pc_imm(c.pc);
    as_.mov(ax::rsi, ax::gpq(c.addr));
    as_.mov(ax::rdi, ax::r15);
    as_.mov(ax::edx, uint32_t(c.flags));
    mov_imm(ax::rcx, c.pc);
    as_.mov(ax::rax, Imm(int64_t(reinterpret_cast<uintptr_t>(env_.slow_load))));
    as_.call(ax::rax);
    from_rax(as_, ax::gpq(c.dst), c.type);
    restore_regs(c.live);
    as_.jmp(c.back);
}

void BlockCompiler::emit_store(uint32_t i, const ir::Inst& in) {
    const uint64_t flags = in.imm & (ir::kMemSizeMask | ir::kMemAlignCheck);
    const unsigned size = ir::mem_size_bytes(flags);
    const uint64_t pc = in.pc;

    ax::Gp addr = use_reg(in.args[0]);
    Operand value = use_any(in.args[1], size);
    if (value.isMem()) value = gp_of(use_reg(in.args[1]).id(), size);  // mov mem, mem does not exist
    const uint32_t live = live_caller_saved(i);
    Label slow = as_.newLabel(), back = as_.newLabel();
    tlb_lookup(as_, addr, size, offsetof(TlbEntry, write_tag) - offsetof(TlbEntry, read_tag), slow);
    as_.emit(ax::Inst::kIdMov, ax::ptr(addr, ax::rdx, 0, 0, size), value);
    as_.bind(back);

    ColdStub c;
    c.kind = ColdStub::Kind::kSlowStore;
    c.label = slow;
    c.back = back;
    c.addr = uint8_t(addr.id());
    c.value = value;
    c.size = size;
    c.live = live;
    c.flags = flags;
    c.pc = pc;
    cold_.push_back(c);
}

void BlockCompiler::emit_slow_store(const ColdStub& c) {
    as_.bind(c.label);
    save_regs(c.live);
    store_pc_imm(c.pc);
    if (c.value.isImm()) {
        const uint64_t mask = c.size == 8 ? ~0ull : (1ull << (8 * c.size)) - 1;
        mov_imm(ax::rdx, uint64_t(c.value.as<Imm>().value()) & mask);
    } else {
        as_.mov(ax::rdx, ax::gpq(c.value.id()));
    }
    as_.mov(ax::rsi, ax::gpq(c.addr));
    as_.mov(ax::rdi, ax::r15);
    as_.mov(ax::ecx, uint32_t(c.flags));
    mov_imm(ax::r8, c.pc);
    as_.mov(ax::rax, Imm(int64_t(reinterpret_cast<uintptr_t>(env_.slow_store))));
    as_.call(ax::rax);
    restore_regs(c.live);
    as_.jmp(c.back);
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
