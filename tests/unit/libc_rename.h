/*
 * Build Pulsar's freestanding libc on the host under other names, so the
 * tests exercise our code and not glibc's (which ASan also intercepts).
 */
#define PULSAR_HOST_TEST 1
#define memcpy pl_memcpy
#define memmove pl_memmove
#define memset pl_memset
#define memcmp pl_memcmp
#define strlen pl_strlen
#define strnlen pl_strnlen
#define strcmp pl_strcmp
#define strncmp pl_strncmp
#define strchr pl_strchr
#define strrchr pl_strrchr
#define strcpy pl_strcpy
#define strncpy pl_strncpy
#define vsnprintf pl_vsnprintf
#define snprintf pl_snprintf
#define malloc pl_malloc
#define calloc pl_calloc
#define realloc pl_realloc
#define free pl_free
#define heap_init pl_heap_init
#define heap_free_bytes pl_heap_free_bytes
#define printf pl_printf
#define vprintf pl_vprintf
#define console_write pl_console_write
