# The multiboot test kernel (included by the root Makefile).
# An ELF32 image at 1 MiB that prints its multiboot info on COM1 as `TK `
# lines; see tests/kernel/README.md.  Built with the NBP's compiler and
# nasm, but on its own flags: it is not part of the NBP.

TEST_KERNEL := build/testkernel.elf
TK_OBJDIR   := build/testkernel

# gcc may turn a copy or clear loop into a memcpy/memset call, which this
# kernel does not have; the flag that stops it is gcc's (clang lacks it).
TK_NO_LIBCALLS := $(shell $(CC) -fno-tree-loop-distribute-patterns -E -x c \
	/dev/null >/dev/null 2>&1 && echo -fno-tree-loop-distribute-patterns)

TK_CFLAGS := -m32 -march=i686 -std=gnu11 -O2 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mgeneral-regs-only \
	-fno-builtin $(TK_NO_LIBCALLS) -fno-common -Wall -Wextra -Werror -MMD -MP
TK_LDFLAGS := -m elf_i386 -T tests/kernel/linker.ld -nostdlib \
	-z max-page-size=0x1000 -z noexecstack --build-id=none

TK_OBJS := $(TK_OBJDIR)/entry.o $(TK_OBJDIR)/kernel.o

$(TK_OBJDIR)/%.o: tests/kernel/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TK_CFLAGS) -c $< -o $@

$(TK_OBJDIR)/%.o: tests/kernel/%.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -MD $(@:.o=.d) $< -o $@

$(TEST_KERNEL): $(TK_OBJS) tests/kernel/linker.ld
	$(LD) $(TK_LDFLAGS) -o $@ $(TK_OBJS)

testkernel: $(TEST_KERNEL)

.PHONY: testkernel
