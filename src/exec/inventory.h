/*
 * exec/inventory — what this machine offers to jobs: CPUs, memory and
 * GPUs. GPUs come from NVML, loaded at run time with dlopen
 * ("libnvidia-ml.so.1"): no GPU and no library is a machine with zero
 * GPUs, not an error. The config can add fake GPUs ([node] fake_gpus = N)
 * so that tests and CI exercise GPU placement without hardware.
 */
#ifndef KAON_EXEC_INVENTORY_H
#define KAON_EXEC_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

enum { INVENTORY_MAX_GPUS = 64 };

struct inventory_gpu {
	int index;
	char model[96];
	char uuid[96];
	int64_t mem_mb;
	int fake; /* 1 for a configured fake GPU */
};

struct inventory {
	char hostname[256];
	int cpus;
	int64_t mem_mb;
	struct inventory_gpu gpus[INVENTORY_MAX_GPUS];
	int ngpus;
};

/* Discover this machine; fake_gpus are appended after real ones. Logs
 * what was found. cpus_reserved/mem_reserved_mb are kept for the system
 * and the daemon itself. */
int inventory_discover(struct inventory *out, int fake_gpus, int cpus_reserved,
		       int64_t mem_reserved_mb, char **cause);

/* Pids of processes that used a real GPU's compute units since since_us
 * (microseconds since the epoch), from NVML's per-process utilisation
 * samples, into pids[0..max); returns how many. 0 without NVML (fake GPUs
 * never count), or when the driver keeps no samples. NVML is opened on
 * the first call and kept; callers are serialised by a lock. Sessions'
 * idle culling uses it: work on a GPU is not idleness. */
int inventory_gpu_busy_pids(uint64_t since_us, int *pids, size_t max);

#endif
