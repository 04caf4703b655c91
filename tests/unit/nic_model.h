/*
 * The hardware edge of boot/bios/nic.c for the host test
 * (tests/unit/test_nic.c): nic.c includes this instead of its own MMIO,
 * PCI, CPUID and clock accessors when built with -DNIC_MODEL.
 */
#ifndef PULSAR_NIC_MODEL_H
#define PULSAR_NIC_MODEL_H
#include <stddef.h>
#include <stdint.h>

uint32_t model_rd(unsigned reg);
void model_wr(unsigned reg, uint32_t v);
uint32_t model_pci_rd(uint32_t addr);
void model_pci_wr(uint32_t addr, uint32_t v);
void model_cpuid(uint32_t leaf, uint32_t r[4]);
void model_yield(void);
uint32_t model_ticks(void);
/** Memory below 4 GiB: descriptors carry 32-bit addresses. */
void *model_malloc(size_t n);

#define rd model_rd
#define wr model_wr
#define pci_rd model_pci_rd
#define pci_wr model_pci_wr
#define cpuid model_cpuid
#define yield model_yield
#define now_ticks model_ticks
#define malloc model_malloc
#endif
