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

# Variants of the same kernel (tests/kernel/README.md):
#   testkernel64.elf      the same 32-bit code in an ELF64 (x86-64) file
#   testkernel-aout.elf   header flag bit 16 with the address fields ...
#   testkernel-aout.bin   ... and as a flat binary: the a.out kludge
#   testkernel-video.elf  header flag bit 2: 800x600x32 wanted
#   testkernel-novideo.elf  bit 2 with a mode no adapter has (text fallback)
#   testkernel-bigbss.elf   linked at 9 MiB with a 48 MiB bss it checks
#   testkernel-mb2.elf    a Multiboot2 header only
#   testkernel-both.elf   both headers (Multiboot 1 first in the file)
#   testkernel-efi64.elf  Multiboot2, ELF64, the EFI boot services tag and
#                         an amd64 EFI entry (64-bit code; it calls
#                         GetMemoryMap, then enters the 32-bit reporter)
#   testkernel-efi64elf.elf  the same without tag 9, tk_efi64_entry its
#                         ELF entry (as NOVA: 64-bit at e_entry)
#   testkernel-efibs32.elf  tag 7 without tag 9 in an ELF32 entered at
#                         tk_entry (32-bit only: boot services exited)
#   testkernel-mb2video.elf  Multiboot2 with a framebuffer tag: 800x600x32
#   testkernel-reloc.elf  Multiboot2, relocatable (lowest place; its own
#                         position-independent asm, tests/kernel/reloc.asm)
#   testkernel-reloc-high.elf  the same, highest place preferred
TK_VARIANTS := build/testkernel64.elf build/testkernel-aout.elf \
	build/testkernel-aout.bin build/testkernel-video.elf \
	build/testkernel-novideo.elf build/testkernel-bigbss.elf \
	build/testkernel-mb2.elf build/testkernel-both.elf \
	build/testkernel-efi64.elf build/testkernel-efi64elf.elf \
	build/testkernel-efibs32.elf build/testkernel-mb2video.elf \
	build/testkernel-reloc.elf build/testkernel-reloc-high.elf

build/testkernel64.elf: $(TEST_KERNEL)
	$(OBJCOPY) -O elf64-x86-64 $< $@

$(TK_OBJDIR)/entry-%.o: tests/kernel/entry.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 $(TK_ASM_$*) -MD $(@:.o=.d) $< -o $@

TK_ASM_aout := -DTK_AOUT
TK_ASM_video := -DTK_VIDEO
TK_ASM_novideo := -DTK_VIDEO -DTK_VIDEO_W=1234 -DTK_VIDEO_H=567
TK_ASM_mb2 := -DTK_MB2 -DTK_MB2_ONLY
TK_ASM_both := -DTK_MB2
TK_ASM_efi64 := -DTK_MB2 -DTK_MB2_ONLY -DTK_EFI64
TK_ASM_efi64elf := $(TK_ASM_efi64) -DTK_EFI64_ELF_ENTRY
TK_ASM_efibs32 := $(TK_ASM_efi64elf)
TK_ASM_mb2video := $(TK_ASM_mb2) -DTK_MB2_VIDEO

build/testkernel-%.elf: $(TK_OBJDIR)/entry-%.o $(TK_OBJDIR)/kernel.o \
		tests/kernel/linker.ld
	$(LD) $(TK_LDFLAGS) -o $@ $< $(TK_OBJDIR)/kernel.o

# Linked as ELF32, then made the ELF64 file a 64-bit kernel is.
TK_LD_efi64elf := -e tk_efi64_entry
TK_EFI64 := efi64 efi64elf
$(TK_EFI64:%=$(TK_OBJDIR)/%.elf): $(TK_OBJDIR)/%.elf: \
		$(TK_OBJDIR)/entry-%.o $(TK_OBJDIR)/kernel.o tests/kernel/linker.ld
	$(LD) $(TK_LDFLAGS) $(TK_LD_$*) -o $@ $< $(TK_OBJDIR)/kernel.o

$(TK_EFI64:%=build/testkernel-%.elf): build/testkernel-%.elf: \
		$(TK_OBJDIR)/%.elf
	$(OBJCOPY) -O elf64-x86-64 $< $@

# Where OVMF still holds 12 MiB of boot services data at -m 128, with a
# bss no single free run holds: pulsar.efi stages it in pieces.
TK_BIGBSS := 0x3000000
$(TK_OBJDIR)/kernel-bigbss.o: tests/kernel/kernel.c
	@mkdir -p $(dir $@)
	$(CC) $(TK_CFLAGS) -DTK_BIG_BSS=$(TK_BIGBSS) -c $< -o $@

build/testkernel-bigbss.elf: $(TK_OBJDIR)/entry.o $(TK_OBJDIR)/kernel-bigbss.o \
		tests/kernel/linker.ld
	$(LD) --defsym TK_BASE=0x900000 $(TK_LDFLAGS) -o $@ $(TK_OBJDIR)/entry.o \
		$(TK_OBJDIR)/kernel-bigbss.o

# Explicit, so the entry-%.o pattern above does not take them.
build/testkernel-reloc.elf build/testkernel-reloc-high.elf: \
		tests/kernel/reloc.asm tests/kernel/reloc.ld
	@mkdir -p $(TK_OBJDIR)
	$(NASM) -f elf32 $(if $(findstring -high,$@),-DTK_RELOC_PREF=2) $< \
		-o $(TK_OBJDIR)/$(notdir $(@:.elf=.o))
	$(LD) -m elf_i386 -T tests/kernel/reloc.ld -nostdlib -z noexecstack \
		--no-warn-rwx-segments \
		--build-id=none -o $@ $(TK_OBJDIR)/$(notdir $(@:.elf=.o))

# Padded to load_end_addr, so the file holds exactly what the fields say.
build/testkernel-aout.bin: build/testkernel-aout.elf
	$(OBJCOPY) -O binary --pad-to=0x$$(nm $< | \
		awk '/ _tk_load_end$$/ { print $$1 }') $< $@

testkernel: $(TEST_KERNEL) $(TK_VARIANTS)

.PHONY: testkernel
