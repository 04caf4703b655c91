# Pulsar: one Makefile for the NBP, the host unit tests and the test kernel.
#   make            build build/pulsar (prints its size, fails over budget)
#                   and build/pulsar-check (the offline config checker)
#   make check      host unit tests (cmocka, ASan + UBSan), then
#                   pulsar-check against tests/check/cases
#   make test       every test: unit tests, then end-to-end boots under QEMU
#   make run        boot the bundled demo over PXE under QEMU
#   make deps       install what the build and tests need (apt-get)
#   make bench      Pulsar against iPXE, PXELINUX and GRUB (build/bench/)

BUILD    := build
NBP      := $(BUILD)/pulsar
# Some PXE ROMs refuse larger boot programs (see README).
NBP_MAX  := 32768

CC       ?= gcc
NASM     ?= nasm
LD       ?= ld
OBJCOPY  ?= objcopy
HOSTCC   ?= cc
PYTHON   ?= python3

# ---------------------------------------------------------------- the NBP
# Size flags per compiler: the 32 KiB budget is shared by every feature.
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
NBP_LDFLAGS := -m elf_i386 -T linker.ld --gc-sections -nostdlib -z noexecstack --no-warn-rwx-segments
LIBGCC   := $(shell $(CC) -m32 -print-libgcc-file-name 2>/dev/null)

# Pure code: built for the NBP and for the host unit tests.
PURE_SRCS := lib/errno.c config/config.c config/lookup.c loader/place.c loader/image.c \
	loader/linux.c loader/vbe.c loader/plan.c mb/mbinfo.c net/dhcp.c lib/progress.c \
	net/tftp_proto.c
# Freestanding libc (host tests build it under renamed symbols).
LIBC_SRCS := lib/string.c lib/printf.c lib/malloc.c
# Hardware edge: only in the NBP.
EDGE_SRCS := $(wildcard net/*.c) $(wildcard loader/main.c loader/bios.c loader/chain.c) \
	loader/video.c lib/console.c
NBP_ASM   := boot/entry.asm
# Stage 1's unpacker: runs before the body (and its libc) exists.
STAGE1_SRCS := boot/inflate.c

NBP_OBJS := $(patsubst %.asm,$(BUILD)/nbp/%.o,$(NBP_ASM)) \
	$(patsubst %.c,$(BUILD)/nbp/%.o,$(sort $(PURE_SRCS) $(LIBC_SRCS) $(EDGE_SRCS) \
	$(STAGE1_SRCS)))

STAGE1_CFLAGS := $(shell $(CC) -fno-tree-loop-distribute-patterns -E -x c /dev/null \
	>/dev/null 2>&1 && echo -fno-tree-loop-distribute-patterns)

CHECKER  := $(BUILD)/pulsar-check

all: $(NBP) $(CHECKER)

$(BUILD)/nbp/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(NBP_CFLAGS) -c $< -o $@

# The unpacker may call nothing: the body holding memcpy is still packed
# when it runs.  gcc turns byte loops into memcpy calls unless told not to,
# so its object is checked for undefined symbols.
$(BUILD)/nbp/boot/inflate.o: boot/inflate.c
	@mkdir -p $(dir $@)
	$(CC) $(NBP_CFLAGS) $(STAGE1_CFLAGS) -c $< -o $@
	@if nm -u $@ | grep -q .; then \
		echo "error: $@ calls out of stage 1:" >&2; nm -u $@ >&2; \
		rm -f $@; exit 1; fi

$(BUILD)/nbp/%.o: %.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -Iboot/ -MD $(@:.o=.d) $< -o $@

$(BUILD)/pulsar.elf: $(NBP_OBJS) linker.ld
	$(LD) $(NBP_LDFLAGS) -Map $(BUILD)/pulsar.map -o $@ $(NBP_OBJS) $(LIBGCC)

# The file is stage 1 as linked, then the body packed by scripts/pack.py
# (see linker.ld); the symbols tell pack.py where the body starts and ends.
$(NBP): $(BUILD)/pulsar.elf scripts/pack.py
	$(OBJCOPY) -O binary -j .stage1 $< $(BUILD)/stage1.bin
	$(OBJCOPY) -O binary -j .text -j .rodata -j .data $< $(BUILD)/body.bin
	@sym() { nm $< | awk -v s=$$1 '$$3 == s { print "0x" $$1 }'; }; \
	pad=$$(( $$(sym __packed_start) - 0x7C00 )); \
	body=$$(( $$(sym __body_end) - $$(sym __body_start) )); \
	$(PYTHON) scripts/pack.py $(BUILD)/stage1.bin $(BUILD)/body.bin $@ \
		--pad-to $$pad --body-size $$body
	@size=$$(stat -c %s $@); \
	echo "build/pulsar: $$size bytes (budget $(NBP_MAX))"; \
	if [ $$size -gt $(NBP_MAX) ]; then \
		echo "error: build/pulsar is over the $(NBP_MAX)-byte budget" >&2; \
		rm -f $@; exit 1; fi

# ---------------------------------------------------------- host unit tests
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_LIBS := -lcmocka
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/host/%,$(wildcard tests/unit/test_*.c))

$(BUILD)/host/test_libc: tests/unit/test_libc.c $(LIBC_SRCS) tests/unit/libc_rename.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -fno-builtin -include tests/unit/libc_rename.h \
		-o $@ tests/unit/test_libc.c $(LIBC_SRCS) $(HOST_LIBS)

$(BUILD)/host/test_inflate: tests/unit/test_inflate.c boot/inflate.c boot/inflate.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -DINFLATE_SECTION= -o $@ $< boot/inflate.c $(HOST_LIBS) -lz

$(BUILD)/host/%: tests/unit/%.c $(PURE_SRCS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< $(PURE_SRCS) $(HOST_LIBS)

# ------------------------------------------------- the offline checker
CHECKER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I.

$(CHECKER): tools/pulsar-check.c $(PURE_SRCS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(CHECKER_CFLAGS) -o $@ tools/pulsar-check.c $(PURE_SRCS)

check: $(UNIT_TESTS) $(CHECKER)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done
	@echo "== tests/check: pulsar-check against good and bad configs"
	$(PYTHON) tests/check/run.py --checker $(CHECKER)

# ------------------------------------------------------------ test kernel
-include tests/kernel/kernel.mk
-include tests/linuxkernel/linuxkernel.mk

# ------------------------------------------------------------ end-to-end
e2e: $(NBP) $(CHECKER) $(TEST_KERNEL) $(TK_VARIANTS) $(TEST_BZIMAGES)
	$(PYTHON) tests/e2e/run.py --nbp $(NBP) --kernel $(TEST_KERNEL) --direct
	$(PYTHON) tests/e2e/run.py --nbp $(NBP) --kernel $(TEST_KERNEL)

# The NBP must build with clang too (STYLE.md); one boot proves the result.
clang-nbp: $(TEST_KERNEL)
	$(MAKE) BUILD=$(BUILD)/clang CC=clang $(BUILD)/clang/pulsar
	$(PYTHON) tests/e2e/run.py --nbp $(BUILD)/clang/pulsar --kernel $(TEST_KERNEL) \
		--case two-modules

test:
	sh scripts/deps.sh
	$(MAKE) check
	$(MAKE) clang-nbp
	$(MAKE) e2e

run: $(NBP) $(TEST_KERNEL) $(TK_VARIANTS)
	sh scripts/deps.sh --run
	$(PYTHON) tests/e2e/run.py --nbp $(NBP) --kernel $(TEST_KERNEL) --demo

deps:
	sh scripts/deps.sh

# libFuzzer target for the TFTP client's packet handling (clang).
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz/fuzz_tftp_proto: tests/fuzz/fuzz_tftp_proto.c net/tftp_proto.c \
		net/tftp_proto.h
	@mkdir -p $(dir $@)
	clang -g -O1 -I. -fsanitize=fuzzer,address,undefined -o $@ \
		tests/fuzz/fuzz_tftp_proto.c net/tftp_proto.c

fuzz-tftp-proto: $(BUILD)/fuzz/fuzz_tftp_proto
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=4096

bench: $(NBP) $(TEST_KERNEL)
	sh scripts/deps.sh --bench
	$(PYTHON) scripts/bench $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)

.PHONY: all check clang-nbp e2e test run deps bench fuzz-tftp-proto clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
