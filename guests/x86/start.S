/* PVH entry of the x86 guests: entered in 32-bit protected mode (flat segments, paging off,
 * EBX = hvm_start_info). Builds identity page tables for the first 1 GiB (2 MiB pages), enables
 * PAE + long mode + paging and continues in 64-bit C code. Also the interrupt entry stubs. */

/* XEN_ELFNOTE_PHYS32_ENTRY: name "Xen", type 18, the 32-bit entry address. */
    .section .note.pvh, "a", @note
    .p2align 2
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .p2align 2
    .long _start32
    .p2align 2

    .section .bss.pagetables, "aw", @nobits
    .p2align 12
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4096

    .section .rodata
    .p2align 3
gdt:
    .quad 0                       /* null */
    .quad 0x00af9a000000ffff      /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff      /* 0x10: data, 4 GiB */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .quad gdt

    .section .text.start, "ax"
    .code32
    .globl _start32
_start32:
    cli
    cld
    movl %ebx, %esi                /* keep hvm_start_info across the bss clear */
    /* Clear .bss (page tables included); the stack lies after it. */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl %esi, pvh_start_info
    movl $__stack_top, %esp

    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] -> i * 2 MiB (present, writable, large). */
    movl $pdpt + 3, pml4
    movl $pd + 3, pdpt
    movl $pd, %edi
    movl $0x83, %eax
    movl $512, %ecx
1:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    movl %cr4, %eax
    orl $0x20, %eax                /* PAE */
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx         /* EFER */
    rdmsr
    orl $0x100, %eax               /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax          /* PG | PE */
    movl %eax, %cr0
    lgdt gdt_desc
    ljmp $0x08, $start64

    .code64
start64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movq $__stack_top, %rsp
    call runtime_start
2:  cli
    hlt
    jmp 2b

/* Interrupt stubs: push a dummy error code where the CPU pushes none, then the vector. */
    .text
    .macro ISR_NOERR n
    .p2align 4
isr\n:
    pushq $0
    pushq $\n
    jmp isr_common
    .endm
    .macro ISR_ERR n
    .p2align 4
isr\n:
    pushq $\n
    jmp isr_common
    .endm

    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
    ISR_NOERR \n
    .endr
    .irp n, 8,10,11,12,13,14,17,21,29,30
    ISR_ERR \n
    .endr
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    ISR_NOERR \n
    .endr

isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    movq %rsp, %rbx
    andq $-16, %rsp                /* SysV alignment for the C handler */
    call trap_dispatch
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp                 /* vector, error code */
    iretq

/* Table of stub addresses for vectors 0-47, read by the IDT setup in runtime.c. */
    .section .rodata
    .p2align 3
    .globl isr_table
isr_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad isr\n
    .endr
