/*
 * A stub libnvidia-ml.so.1 for testing migm's NVML binding without a GPU: the calls migm makes,
 * with the structs and return codes of NVIDIA's public nvml.h (mig-hardware.md section 3), over an
 * in-memory node of two A100-SXM4-40GB: GPU 0 with MIG on, GPU 1 with MIG off. Profile figures are
 * the catalog's (NVIDIA MIG User Guide transcript). Written for the tests; not NVIDIA's code.
 */
#include <stdio.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st { int index; } *nvmlDevice_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct {
    unsigned int id, isP2pSupported, sliceCount, instanceCount, multiprocessorCount, copyEngineCount,
        decoderCount, encoderCount, jpegCount, ofaCount;
    unsigned long long memorySizeMB;
} nvmlGpuInstanceProfileInfo_t;
typedef struct { unsigned int start, size; } nvmlGpuInstancePlacement_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_INSUFFICIENT_SIZE 7

static struct nvmlDevice_st devices[2] = {{0}, {1}};
static int initialised = 0;
static unsigned long long energy_mj[2] = {1000000ULL, 2000000ULL};

struct profile { int enum_value; nvmlGpuInstanceProfileInfo_t info; unsigned int starts[7]; unsigned int nstarts, size; };
static const struct profile profiles[] = {
    {0, {19, 0, 1, 7, 14, 1, 0, 0, 0, 0, 4864}, {0, 1, 2, 3, 4, 5, 6}, 7, 1},
    {1, {14, 0, 2, 3, 28, 2, 1, 0, 0, 0, 9856}, {0, 2, 4}, 3, 2},
    {2, {9, 0, 3, 2, 42, 3, 2, 0, 0, 0, 19968}, {0, 4}, 2, 4},
    {3, {5, 0, 4, 1, 56, 4, 2, 0, 0, 0, 19968}, {0}, 1, 4},
    {4, {0, 0, 7, 1, 98, 7, 5, 0, 1, 1, 40192}, {0}, 1, 8},
    {7, {20, 0, 1, 1, 14, 1, 1, 0, 1, 1, 4864}, {0, 1, 2, 3, 4, 5, 6}, 7, 1},
    {9, {15, 0, 1, 4, 14, 1, 1, 0, 0, 0, 9856}, {0, 2, 4, 6}, 4, 2},
};
#define NPROFILES (sizeof(profiles) / sizeof(profiles[0]))

nvmlReturn_t nvmlInit_v2(void) { initialised = 1; return NVML_SUCCESS; }
nvmlReturn_t nvmlShutdown(void) { initialised = 0; return NVML_SUCCESS; }

const char *nvmlErrorString(nvmlReturn_t r) {
    switch (r) {
        case NVML_SUCCESS: return "Success";
        case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
        case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
        case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
        case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
        default: return "Unknown Error";
    }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    if (!initialised) return NVML_ERROR_UNINITIALIZED;
    if (length < 12) return NVML_ERROR_INSUFFICIENT_SIZE;
    snprintf(version, length, "575.57.08");
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    if (!initialised) return NVML_ERROR_UNINITIALIZED;
    *count = 2;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (!initialised) return NVML_ERROR_UNINITIALIZED;
    if (index >= 2) return NVML_ERROR_INVALID_ARGUMENT;
    *device = &devices[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) {
    snprintf(name, length, "NVIDIA A100-SXM4-40GB");
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length) {
    snprintf(uuid, length, "GPU-5d5a3b5e-0000-4000-8000-00000000000%d", d->index);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
    m->total = 40960ULL << 20;
    m->used = (unsigned long long) (d->index == 0 ? 512 : 0) << 20;
    m->free = m->total - m->used;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending) {
    *current = d->index == 0;
    *pending = d->index == 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) { *mw = 55000 + 1000 * d->index; return NVML_SUCCESS; }

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj) {
    *mj = energy_mj[d->index];
    energy_mj[d->index] += 55000;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfo(nvmlDevice_t d, unsigned int profile, nvmlGpuInstanceProfileInfo_t *info) {
    if (d->index != 0) return NVML_ERROR_NOT_SUPPORTED;
    for (unsigned int i = 0; i < NPROFILES; i++) {
        if (profiles[i].enum_value == (int) profile) { *info = profiles[i].info; return NVML_SUCCESS; }
    }
    return NVML_ERROR_INVALID_ARGUMENT;
}

nvmlReturn_t nvmlDeviceGetGpuInstancePossiblePlacements_v2(nvmlDevice_t d, unsigned int profileId,
                                                           nvmlGpuInstancePlacement_t *placements, unsigned int *count) {
    for (unsigned int i = 0; i < NPROFILES; i++) {
        if (profiles[i].info.id != profileId) continue;
        if (placements == NULL) { *count = profiles[i].nstarts; return NVML_SUCCESS; }
        if (*count < profiles[i].nstarts) return NVML_ERROR_INSUFFICIENT_SIZE;
        for (unsigned int j = 0; j < profiles[i].nstarts; j++) {
            placements[j].start = profiles[i].starts[j];
            placements[j].size = profiles[i].size;
        }
        *count = profiles[i].nstarts;
        return NVML_SUCCESS;
    }
    return NVML_ERROR_NOT_SUPPORTED;
}

/* For the layout check: sizes and offsets as this compiler lays the structs out. */
unsigned long stub_layout(int what) {
    switch (what) {
        case 0: return sizeof(nvmlGpuInstanceProfileInfo_t);
        case 1: return __builtin_offsetof(nvmlGpuInstanceProfileInfo_t, memorySizeMB);
        case 2: return sizeof(nvmlMemory_t);
        case 3: return sizeof(nvmlGpuInstancePlacement_t);
        default: return 0;
    }
}
