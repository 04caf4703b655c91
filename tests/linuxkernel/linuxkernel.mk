# The bzImage test kernels (included by the root Makefile): one source,
# two boot protocol versions, flat binaries built by nasm alone.
#   build/testbzimage       protocol 2.10 (pref_address, init_size)
#   build/testbzimage-206   protocol 2.06, as Kitten's setup.S has it

TEST_BZIMAGES := build/testbzimage build/testbzimage-206

build/testbzimage: tests/linuxkernel/bzkernel.asm
	@mkdir -p $(dir $@)
	$(NASM) -f bin -DPROTO=0x020A -o $@ $<

build/testbzimage-206: tests/linuxkernel/bzkernel.asm
	@mkdir -p $(dir $@)
	$(NASM) -f bin -DPROTO=0x0206 -o $@ $<

testbzimage: $(TEST_BZIMAGES)

.PHONY: testbzimage
