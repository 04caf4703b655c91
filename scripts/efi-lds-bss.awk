# Debian's gnu-efi linker script (elf_x86_64_efi.lds) with the zeroed
# data in a section of its own: the script puts .bss into .data, so
# every zero byte of Pulsar's static buffers (about 270 KiB) was in
# pulsar.efi, which the firmware fetches over TFTP before Pulsar runs.
# Here .bss follows .data as an uninitialized section (objcopy makes it
# a PE section with no raw data; the PE loader zero-fills it, as the PE
# format defines).  Everything else is the script as Debian ships it.
# The Makefile checks that the result has the .bss section.
/^  \.data :/ { in_data = 1 }
in_data && /^[ \t]*\*\((\.sbss|\.scommon|\.dynbss|\.bss|COMMON)\)/ { next }
in_data && /the EFI loader doesn/ { in_comment = 1 }
in_comment { if (/\*\//) in_comment = 0; next }
{ print }
in_data && /^  \}/ {
    in_data = 0
    print "  . = ALIGN(4096);"
    print "  .bss (NOLOAD) :"
    print "  {"
    print "   *(.sbss)"
    print "   *(.scommon)"
    print "   *(.dynbss)"
    print "   *(.bss)"
    print "   *(COMMON)"
    print "  }"
}
