# Pulsar: one Makefile for the NBP, the host unit tests and the test kernel.
#   make            build build/pulsar (prints its size, fails over NBP_MAX),
#                   build/pulsar.efi (the UEFI x86-64 application) and
#                   build/pulsar-check (the offline config checker)
#   make check      host unit tests (cmocka, ASan + UBSan), the malformed-input
#                   table, pulsar-check against tests/check/cases, man pages
#   make fuzz       libFuzzer targets, 5 minutes each (fuzz-ci: 20 s each)
#   make test       every test: unit tests, then end-to-end boots under QEMU
#                   (BIOS and, for pulsar.efi, UEFI with OVMF), then the
#                   Debian package (package-test)
#   make run        boot the bundled demo over PXE under QEMU
#   make run-efi    the same with pulsar.efi under OVMF (UEFI)
#   make deps       install what the build and tests need (apt-get)
#   make bench      Pulsar against iPXE, PXELINUX and GRUB (build/bench/)
#   make install    the boot programs, pulsar-check, man pages and docs under
#                   $(DESTDIR)$(PREFIX) (PREFIX defaults to /usr/local)
#   make package-test  build the Debian package (debian/) from a copy of the
#                   tree, unpack it and boot the test kernel from the
#                   installed files, BIOS and UEFI (make test runs it last)

BUILD    := build
NBP      := $(BUILD)/pulsar
EFI_APP  := $(BUILD)/pulsar.efi
# The file's size limit, and why, is boot/bios/layout.h's NBP_MAX.
NBP_MAX  := $(shell sed -n 's/^\#define NBP_MAX \([0-9][0-9]*\)$$/\1/p' boot/bios/layout.h)
ifeq ($(NBP_MAX),)
$(error cannot read NBP_MAX from boot/bios/layout.h)
endif
# Printed next to Pulsar's size when present (Debian package pxelinux): a
# boot program every PXE ROM in use loads.
PXELINUX_REF := /usr/lib/PXELINUX/pxelinux.0

CC       ?= gcc
NASM     ?= nasm
LD       ?= ld
OBJCOPY  ?= objcopy
HOSTCC   ?= cc
PYTHON   ?= python3

# ---------------------------------------------------------------- the NBP
# Size flags per compiler: the 64 KiB limit (NBP_MAX) is shared by every
# feature.
# The NBP has no SSE and no callers that need 16-byte stack alignment.
ifneq ($(shell $(CC) --version 2>/dev/null | grep -c clang),0)
NBP_OPT  := -Oz -mstack-alignment=4
else
NBP_OPT  := -Os -mpreferred-stack-boundary=2
endif
NBP_CFLAGS := -m32 -march=i686 -std=gnu11 $(NBP_OPT) -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mgeneral-regs-only \
	-mno-red-zone -fno-builtin -fno-common -ffunction-sections -fdata-sections \
	-Wall -Wextra -Werror -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Ilib/include -I. -MMD -MP $(EXTRA_CFLAGS)
ifeq ($(DEBUG),1)
NBP_CFLAGS += -DDEBUG=1
endif
NBP_LDS  := $(BUILD)/linker.ld
NBP_LDFLAGS := -m elf_i386 -T $(NBP_LDS) --gc-sections -nostdlib -z noexecstack --no-warn-rwx-segments
LIBGCC   := $(shell $(CC) -m32 -print-libgcc-file-name 2>/dev/null)

# Pure code: every C file under the pure folders, built for the NBP and
# for the host (unit tests, pulsar-check).  Firmware code lives under
# boot/ only; `make purity` fails when a pure file includes a boot/ header.
PURE_DIRS := config loader mb net lib
# Freestanding libc (host tests build it under renamed symbols).
LIBC_SRCS := lib/string.c lib/printf.c lib/malloc.c
# Stage 1's unpacker: runs before the body (and its libc) exists.
STAGE1_SRCS := lib/inflate.c
# (lib/inflate.c is pure too: its gzip decoder runs in the session.)
PURE_SRCS := $(filter-out $(LIBC_SRCS),\
	$(sort $(foreach d,$(PURE_DIRS),$(wildcard $(d)/*.c))))
# The BIOS face: only in the NBP.  asm-offsets.c is never linked: it
# becomes entry.asm's asm-offsets.inc (below).
EDGE_SRCS := $(filter-out boot/bios/asm-offsets.c,$(wildcard boot/bios/*.c))
NBP_ASM   := boot/bios/entry.asm
# What entry.asm knows of the C side (struct offsets, sizes, constants),
# generated from C so that the compiler, not a comment, keeps them in step.
ASM_OFFSETS := $(BUILD)/nbp/gen/asm-offsets.inc

NBP_OBJS := $(patsubst %.asm,$(BUILD)/nbp/%.o,$(NBP_ASM)) \
	$(patsubst %.c,$(BUILD)/nbp/%.o,$(sort $(PURE_SRCS) $(LIBC_SRCS) $(EDGE_SRCS) \
	$(STAGE1_SRCS)))

STAGE1_CFLAGS := $(shell $(CC) -fno-tree-loop-distribute-patterns -E -x c /dev/null \
	>/dev/null 2>&1 && echo -fno-tree-loop-distribute-patterns)

CHECKER  := $(BUILD)/pulsar-check

all: purity $(NBP) $(EFI_APP) $(CHECKER)

# The pure folders build for the host: no firmware header may creep in.
purity:
	@bad=$$(grep -l '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]\(boot/\|efi\)' \
		$(foreach d,$(PURE_DIRS),$(d)/*.c $(d)/*.h) 2>/dev/null); \
	if [ -n "$$bad" ]; then echo "error: pure files include firmware headers:" \
		$$bad >&2; exit 1; fi

$(BUILD)/nbp/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(NBP_CFLAGS) -c $< -o $@

# The unpacker may call nothing: the body holding memcpy is still packed
# when it runs.  gcc turns byte loops into memcpy calls unless told not to,
# so its object is checked for undefined symbols.
# It is also the gzip decoder, whose loop is the NBP's hottest: -O2 (after
# NBP_CFLAGS' -Os) makes it 1.4x faster for about 1.3 KiB more.
$(BUILD)/nbp/lib/inflate.o: lib/inflate.c
	@mkdir -p $(dir $@)
	$(CC) $(NBP_CFLAGS) $(STAGE1_CFLAGS) -O2 -DINFLATE_STAGE1 -c $< -o $@
	@if nm -u $@ | grep -q .; then \
		echo "error: $@ calls out of stage 1:" >&2; nm -u $@ >&2; \
		rm -f $@; exit 1; fi

# asm-offsets.c compiled to assembly; each "->NAME VALUE" its DEFINE()s
# leave there becomes "NAME equ VALUE" (SeaBIOS's and Linux's trick).
$(ASM_OFFSETS): boot/bios/asm-offsets.c
	@mkdir -p $(dir $@)
	$(CC) $(NBP_CFLAGS) -MT $@ -MF $(@:.inc=.d) -S $< -o $(@:.inc=.s)
	@{ echo "; Generated from boot/bios/asm-offsets.c by the Makefile."; \
	sed -n 's/.*"->\([A-Za-z0-9_]*\) \(-\{0,1\}[0-9][0-9]*\)".*/\1 equ \2/p' \
		$(@:.inc=.s); } > $@.tmp
	@if ! grep -q ' equ ' $@.tmp; then \
		echo "error: no values in $(@:.inc=.s)" >&2; rm -f $@.tmp; exit 1; fi
	@mv $@.tmp $@

$(BUILD)/nbp/%.o: %.asm $(ASM_OFFSETS)
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -Iboot/bios/ -I$(dir $(ASM_OFFSETS)) -MD $(@:.o=.d) $< -o $@

# linker.ld takes its addresses from boot/bios/layout.h through cpp
# (-undef: no predefined i386 to turn OUTPUT_ARCH(i386) into 1).
$(NBP_LDS): linker.ld
	@mkdir -p $(dir $@)
	$(CC) -E -P -undef -nostdinc -x c -I. -MMD -MP -MT $@ -MF $@.d linker.ld -o $@

$(BUILD)/pulsar.elf: $(NBP_OBJS) $(NBP_LDS)
	$(LD) $(NBP_LDFLAGS) -Map $(BUILD)/pulsar.map -o $@ $(NBP_OBJS) $(LIBGCC)

# The file is stage 1 as linked, then the body packed by scripts/pack.py
# (see linker.ld); the symbols tell pack.py where the body starts and ends.
$(NBP): $(BUILD)/pulsar.elf scripts/pack.py boot/bios/layout.h
	$(OBJCOPY) -O binary -j .stage1 $< $(BUILD)/stage1.bin
	$(OBJCOPY) -O binary -j .text -j .rodata -j .data $< $(BUILD)/body.bin
	@sym() { nm $< | awk -v s=$$1 '$$3 == s { print "0x" $$1 }'; }; \
	pad=$$(( $$(sym __packed_start) - $$(sym __image_start) )); \
	body=$$(( $$(sym __body_end) - $$(sym __body_start) )); \
	$(PYTHON) scripts/pack.py $(BUILD)/stage1.bin $(BUILD)/body.bin $@ \
		--layout boot/bios/layout.h \
		--pad-to $$pad --body-size $$body
	@size=$$(stat -c %s $@); \
	ref=""; [ -f $(PXELINUX_REF) ] && \
		ref="; pxelinux.0: $$(stat -c %s $(PXELINUX_REF)) bytes"; \
	echo "$@: $$size bytes (limit $(NBP_MAX)$$ref)"; \
	if [ $$size -gt $(NBP_MAX) ]; then \
		echo "error: $@ is over the $(NBP_MAX)-byte limit" \
			"(NBP_MAX, boot/bios/layout.h)" >&2; \
		rm -f $@; exit 1; fi

# ------------------------------------------------------------- pulsar.efi
# The UEFI face (boot/efi/) with the same pure code, for x86-64, linked the
# way gnu-efi as Debian ships it expects: its crt0 relocates the image and
# calls efi_main; objcopy turns the ELF shared object into a PE32+
# application.  Pulsar uses gnu-efi's headers and crt0 only, not libefi:
# printf, the heap and the string functions are the pure libc's (gcc must
# not turn their loops back into calls to themselves: STAGE1_CFLAGS).
# No -fdata-sections: the gnu-efi linker script gathers .bss, not .bss.*;
# a section it does not name would lie outside the image.
EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
EFI_CRT0 := $(EFI_LIB)/crt0-efi-x86_64.o
EFI_LDS  := $(EFI_LIB)/elf_x86_64_efi.lds
EFI_CFLAGS := -m64 -std=gnu11 -O2 -ffreestanding -fpic -fshort-wchar -mno-red-zone \
	-DGNU_EFI_USE_MS_ABI -fno-stack-protector -fno-strict-aliasing \
	-fno-asynchronous-unwind-tables -mgeneral-regs-only -fno-builtin \
	-fno-common $(STAGE1_CFLAGS) \
	-Wall -Wextra -Werror -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Ilib/include -I. -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -MMD -MP \
	$(EXTRA_CFLAGS)
ifeq ($(DEBUG),1)
EFI_CFLAGS += -DDEBUG=1
endif
EFI_FACE_SRCS := $(wildcard boot/efi/*.c)
EFI_OBJS := $(patsubst %.c,$(BUILD)/efi/%.o,$(sort $(PURE_SRCS) $(LIBC_SRCS) \
	$(EFI_FACE_SRCS))) $(patsubst %.S,$(BUILD)/efi/%.o,$(wildcard boot/efi/*.S))

$(EFI_CRT0) $(EFI_LDS):
	@echo "error: $@ is missing: install gnu-efi (make deps)" >&2; exit 1

$(BUILD)/efi/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/efi/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -c $< -o $@

# Debian's script with .bss out of .data (scripts/efi-lds-bss.awk says why).
$(BUILD)/efi/pulsar.lds: $(EFI_LDS) scripts/efi-lds-bss.awk
	@mkdir -p $(dir $@)
	awk -f scripts/efi-lds-bss.awk $(EFI_LDS) > $@.tmp
	@grep -q '^  \.bss (NOLOAD)' $@.tmp && \
		! sed -n '/^  \.data :/,/^  }/p' $@.tmp | grep -q '(\.bss)' || \
		{ echo "error: $(EFI_LDS): no .bss in .data to move out" >&2; \
		  rm -f $@.tmp; exit 1; }
	mv $@.tmp $@

$(BUILD)/efi/pulsar.so: $(EFI_OBJS) $(EFI_CRT0) $(BUILD)/efi/pulsar.lds
	$(LD) -nostdlib -znocombreloc -T $(BUILD)/efi/pulsar.lds -shared -Bsymbolic \
		--no-undefined -L$(EFI_LIB) -Map $(BUILD)/efi/pulsar.map \
		$(EFI_CRT0) $(EFI_OBJS) -lgnuefi -o $@

$(EFI_APP): $(BUILD)/efi/pulsar.so
	$(OBJCOPY) -j .text -j .sdata -j .data -j .bss -j .dynamic -j .dynsym -j .rel \
		-j .rela -j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 \
		--subsystem=10 $< $@
	@echo "$@: $$(stat -c %s $@) bytes"

# ---------------------------------------------------------- host unit tests
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_LIBS := -lcmocka
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/host/%,$(wildcard tests/unit/test_*.c))

$(BUILD)/host/test_libc: tests/unit/test_libc.c $(LIBC_SRCS) tests/unit/libc_rename.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -fno-builtin -include tests/unit/libc_rename.h \
		-o $@ tests/unit/test_libc.c $(LIBC_SRCS) $(HOST_LIBS)

$(BUILD)/host/test_inflate: tests/unit/test_inflate.c lib/inflate.c lib/inflate.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -DINFLATE_SECTION= -o $@ $< lib/inflate.c $(HOST_LIBS) -lz

# The gzip decoder's speed on the host (tests/bench/inflate_bench.c), run
# by `make bench`: optimised (-O2), not under the sanitizers.
$(BUILD)/host/inflate_bench: tests/bench/inflate_bench.c lib/inflate.c lib/inflate.h
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 -Wall -Wextra -Werror -I. -o $@ $< lib/inflate.c -lz

# The NIC fast path (boot/bios/nic.c) against a register model: nic.c takes
# its MMIO, PCI, CPUID and clock accessors from tests/unit/nic_model.h; its
# console lines go to the test (nic_printf).
$(BUILD)/host/test_nic: tests/unit/test_nic.c tests/unit/nic_model.h boot/bios/nic.c \
		$(PURE_SRCS) $(wildcard */*.h) boot/bios/nic.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -DNIC_MODEL='"tests/unit/nic_model.h"' \
		-Dprintf=nic_printf -o $@ tests/unit/test_nic.c boot/bios/nic.c \
		$(PURE_SRCS) $(HOST_LIBS)

# The session tests share a memory server and images (session_fixture.c).
SESSION_FIXTURE := tests/unit/session_fixture.c
$(BUILD)/host/test_session_%: tests/unit/test_session_%.c $(SESSION_FIXTURE) \
		$(PURE_SRCS) $(wildcard */*.h) tests/unit/session_fixture.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< $(SESSION_FIXTURE) $(PURE_SRCS) $(HOST_LIBS)

$(BUILD)/host/%: tests/unit/%.c $(PURE_SRCS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< $(PURE_SRCS) $(HOST_LIBS)

# ------------------------------------------------- the offline checker
# The one program that runs on the host of an installed system: it takes
# the distribution's CPPFLAGS, CFLAGS and LDFLAGS (hardening) after ours.
CHECKER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I.

$(CHECKER): tools/pulsar-check.c $(PURE_SRCS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(CHECKER_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ \
		tools/pulsar-check.c $(PURE_SRCS)

# The malformed-input table: gen.py writes each case and its exact error.
$(BUILD)/malformed/index: tests/malformed/gen.py lab/images.py
	rm -rf $(BUILD)/malformed
	$(PYTHON) -m tests.malformed.gen $(BUILD)/malformed

check: purity man-check $(UNIT_TESTS) $(CHECKER) $(BUILD)/malformed/index
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; \
		PULSAR_MALFORMED=$(BUILD)/malformed $$t; done
	@echo "== tests/check: pulsar-check against good and bad configs"
	$(PYTHON) -m tests.check.run --checker $(CHECKER)
	@echo "== tests/e2e/test_faultserver.py: the fault-injecting server"
	$(PYTHON) -m tests.e2e.test_faultserver

# ------------------------------------------------------------ man pages
# Each page must render without a single groff warning (-ww).
MAN_PAGES := $(wildcard man/*.[1-9])

man-check:
	@set -e; for m in $(MAN_PAGES); do \
		out=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -E UTF-8 -l $$m \
			2>&1 >/dev/null); \
		if [ -n "$$out" ]; then echo "$$m:" >&2; echo "$$out" >&2; exit 1; fi; \
	done; echo "== man pages: $(MAN_PAGES) render without warnings"

# -------------------------------------------------------------- fuzzing
# clang libFuzzer targets with ASan + UBSan (tests/fuzz/fuzz_<t>.c), each
# with a seed corpus in tests/fuzz/corpus/<t>/; what they find goes to
# build/fuzz/corpus/<t>/ (crashes: build/fuzz/<t>-crash-*).
#   make fuzz        each target for FUZZ_SECONDS (default 300)
#   make fuzz-ci     each target for FUZZ_CI_SECONDS (default 20): make test
FUZZ_TARGETS := config elf bzimage dhcp tftp tftp_proto tftp_client ether session pe \
	mb2 gzip
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_CI_SECONDS ?= 20
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -I. -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
# The TFTP target runs boot/bios/tftp_pxe.c and the retry loop against a
# fake ROM; its real-mode address casts are 32-bit, harmless on the host.
FUZZ_TFTP_SRCS := boot/bios/tftp_pxe.c
FUZZ_MAX_LEN_config := 70000
FUZZ_MAX_LEN_elf := 20000
FUZZ_MAX_LEN_bzimage := 20000
FUZZ_MAX_LEN_pe := 8192
FUZZ_MAX_LEN_dhcp := 2048
FUZZ_MAX_LEN_tftp := 4096

$(BUILD)/fuzz/fuzz_tftp: tests/fuzz/fuzz_tftp.c $(PURE_SRCS) $(FUZZ_TFTP_SRCS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-pointer-to-int-cast \
		-Dprintf=fuzz_quiet_printf -o $@ $< $(PURE_SRCS) $(FUZZ_TFTP_SRCS)

# The whole boot session over memory files (its messages silenced).
$(BUILD)/fuzz/fuzz_session: tests/fuzz/fuzz_session.c $(PURE_SRCS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Dprintf=fuzz_quiet_printf -o $@ $< $(PURE_SRCS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(PURE_SRCS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(PURE_SRCS)

# Run every target for $(1) seconds; stop at the first finding.
define run_fuzzers
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$t; \
		echo "== fuzz_$$t: $(1) s"; \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(1) -print_final_stats=1 \
			-max_len=$$(case $$t in config) echo $(FUZZ_MAX_LEN_config);; \
				elf|bzimage|session) echo $(FUZZ_MAX_LEN_elf);; dhcp) echo \
				$(FUZZ_MAX_LEN_dhcp);; *) echo $(FUZZ_MAX_LEN_tftp);; esac) \
			-artifact_prefix=$(BUILD)/fuzz/$$t- \
			$(BUILD)/fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>&1 | \
			grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|INFO: seed corpus|==[0-9]+==|SUMMARY|Done)' \
			|| true; \
		test -z "$$(ls $(BUILD)/fuzz/$$t-crash-* $(BUILD)/fuzz/$$t-leak-* \
			$(BUILD)/fuzz/$$t-timeout-* $(BUILD)/fuzz/$$t-oom-* 2>/dev/null)" \
			|| { echo "fuzz_$$t: finding in $(BUILD)/fuzz/" >&2; exit 1; }; \
	done
endef

fuzz: $(FUZZ_BINS)
	$(call run_fuzzers,$(FUZZ_SECONDS))

fuzz-ci: $(FUZZ_BINS)
	$(call run_fuzzers,$(FUZZ_CI_SECONDS))

# ------------------------------------------------------------- install
# The boot programs go where the distribution's others are (PXELINUX's
# under /usr/lib/PXELINUX/, iPXE's under /usr/lib/ipxe/): administrators
# copy them into the TFTP root.  They are data for the firmware, not host
# programs, hence mode 644.  README.md keeps docs/ beside it for its links.
# scripts/netboot is not installed: it is a lab tool that runs from the
# source tree (lab/, and the servers scripts/deps.sh unpacks into cache/).
PREFIX  ?= /usr/local
LIBDIR  := $(PREFIX)/lib/pulsar
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man
DOCDIR  := $(PREFIX)/share/doc/pulsar

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)/docs
	install -m 644 $(NBP) $(EFI_APP) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(CHECKER) $(DESTDIR)$(BINDIR)/
	install -m 644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/

# ------------------------------------------------------------ test kernel
-include tests/kernel/kernel.mk
-include tests/linuxkernel/linuxkernel.mk

# ------------------------------------------------------------ end-to-end
# Cases at a time: two QEMUs keep both cores of a 2-core machine busy.
E2E_JOBS ?= 2
e2e: $(NBP) $(EFI_APP) $(CHECKER) $(TEST_KERNEL) $(TK_VARIANTS) $(TEST_BZIMAGES)
	$(PYTHON) -m tests.e2e.run --nbp $(NBP) --kernel $(TEST_KERNEL) --direct
	$(PYTHON) -m tests.e2e.run --nbp $(NBP) --efi $(EFI_APP) --kernel $(TEST_KERNEL) \
		--jobs $(E2E_JOBS)

# The NBP must build with clang too (STYLE.md); one boot proves the result.
clang-nbp: $(TEST_KERNEL)
	$(MAKE) BUILD=$(BUILD)/clang CC=clang $(BUILD)/clang/pulsar
	$(PYTHON) -m tests.e2e.run --nbp $(BUILD)/clang/pulsar --kernel $(TEST_KERNEL) \
		--case two-modules

# The Debian package, built from a copy of the tree and booted from what
# it installs (scripts/package-test).
package-test: $(TEST_KERNEL)
	sh scripts/package-test --kernel $(TEST_KERNEL)

test:
	sh scripts/deps.sh
	$(MAKE) check
	$(MAKE) fuzz-ci
	$(MAKE) clang-nbp
	$(MAKE) e2e
	$(MAKE) package-test

run: $(NBP) $(TEST_KERNEL) $(TK_VARIANTS)
	sh scripts/deps.sh --run
	$(PYTHON) -m tests.e2e.run --nbp $(NBP) --kernel $(TEST_KERNEL) --demo

# The same demo with pulsar.efi under OVMF (UEFI, q35, OVMF's own PXE).
run-efi: $(EFI_APP) $(TEST_KERNEL)
	sh scripts/deps.sh --run
	$(PYTHON) -m tests.e2e.run --efi $(EFI_APP) --kernel $(TEST_KERNEL) --demo-efi

deps:
	sh scripts/deps.sh

# The TFTP client's packet handling alone (net/tftp_proto.c) is the
# tftp_proto target above; this name is kept for the speed work's docs.
fuzz-tftp-proto: $(BUILD)/fuzz/fuzz_tftp_proto
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		$(BUILD)/fuzz/corpus/tftp_proto tests/fuzz/corpus/tftp_proto

# pulsar-pxe: the same NBP without the NIC fast path (boot/bios/nic.h), a peer;
# pulsar-efi-mtftp: pulsar.efi reading with the PXE Base Code's Mtftp only.
bench: $(NBP) $(EFI_APP) $(TEST_KERNEL) $(BUILD)/host/inflate_bench
	sh scripts/deps.sh --bench
	@mkdir -p $(BUILD)/bench
	$(BUILD)/host/inflate_bench | tee $(BUILD)/bench/inflate.txt
	$(MAKE) BUILD=$(BUILD)/pxe EXTRA_CFLAGS=-DPULSAR_NO_NIC_FASTPATH \
		$(BUILD)/pxe/pulsar
	$(MAKE) BUILD=$(BUILD)/mtftp EXTRA_CFLAGS=-DPULSAR_NO_SNP \
		$(BUILD)/mtftp/pulsar.efi
	$(PYTHON) -m lab.bench $(BENCH_ARGS)
	$(PYTHON) -m lab.storm --table $(BUILD)/bench/storm.md --module-mib 8 \
		$(STORM_ARGS)

clean:
	rm -rf $(BUILD)

.PHONY: all purity man-check check clang-nbp e2e test run run-efi deps bench fuzz fuzz-ci fuzz-tftp-proto \
	install package-test clean
# Dependency files are only read, never made: without this rule make tries
# to remake each one it includes through its implicit rules (nasm + cc).
%.d: ;
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
