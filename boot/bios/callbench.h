/* The PXE call cost benchmark (boot/bios/callbench.c, scripts/callbench). */
#ifndef PULSAR_CALLBENCH_H
#define PULSAR_CALLBENCH_H
void call_bench(void);
#endif
