/*
 * A stub libnvidia-ml.so.1 for testing migm's NVML binding without a GPU: the calls migm makes,
 * with the structs and return codes of NVIDIA's public nvml.h (mig-hardware.md section 3), over an
 * in-memory node of two A100-SXM4-40GB: GPU 0 with MIG on, GPU 1 with MIG off. Profile figures are
 * the catalog's (NVIDIA MIG User Guide transcript). MIG modes change as nvmlDeviceSetMigMode documents
 * them: at once on an idle GPU of Hopper or newer (stub_set_architecture), pending a reset on Ampere,
 * pending while instances exist. Written for the tests; not NVIDIA's code.
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
static unsigned int mig_current[2] = {1, 0}, mig_pending[2] = {1, 0};
static unsigned int architecture = 7; /* NVML_DEVICE_ARCH_AMPERE */
static unsigned long long whole_mib[2]; /* a process on the whole GPU, MIG off: stub_set_whole_process_memory */

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
        case 6: return "Not Found";
        case 19: return "In use by another client";
        case 23: return "Insufficient Resources";
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
    if (d->index >= 100) snprintf(uuid, length, "MIG-8e2a1c34-0000-4000-8000-%012d", d->index);
    else snprintf(uuid, length, "GPU-5d5a3b5e-0000-4000-8000-00000000000%d", d->index);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
    m->total = 40960ULL << 20;
    m->used = (unsigned long long) (d->index == 0 ? 512 : 0) << 20;
    m->free = m->total - m->used;
    return NVML_SUCCESS;
}

typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *pci) {
    memset(pci, 0, sizeof(*pci));
    pci->bus = 0x07 + 0x08 * d->index;
    pci->pciDeviceId = 0x20B010DE; /* A100-SXM4-40GB */
    snprintf(pci->busIdLegacy, sizeof(pci->busIdLegacy), "0000:%02X:00.0", pci->bus);
    snprintf(pci->busId, sizeof(pci->busId), "00000000:%02X:00.0", pci->bus);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending) {
    *current = mig_current[d->index];
    *pending = mig_pending[d->index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetArchitecture(nvmlDevice_t d, unsigned int *arch) {
    *arch = architecture;
    return NVML_SUCCESS;
}

static int has_instances(int gpu);

nvmlReturn_t nvmlDeviceSetMigMode(nvmlDevice_t d, unsigned int mode, nvmlReturn_t *activation) {
    if (mode > 1) return NVML_ERROR_INVALID_ARGUMENT;
    mig_pending[d->index] = mode;
    if (has_instances(d->index) || whole_mib[d->index] > 0) *activation = 19;  /* IN_USE */
    else if (architecture < 9) *activation = 16;                              /* RESET_REQUIRED */
    else { mig_current[d->index] = mode; *activation = NVML_SUCCESS; }
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

/* ---- MIG instances: GPU instances with one full compute instance each, on GPU 0 ---- */
typedef struct nvmlGpuInstance_st { int used; unsigned int id, profileId, start, size; } *nvmlGpuInstance_t;
typedef struct nvmlComputeInstance_st { int used; nvmlGpuInstance_t gi; unsigned int id; } *nvmlComputeInstance_t;
typedef struct { nvmlDevice_t device; unsigned int id, profileId; nvmlGpuInstancePlacement_t placement; } nvmlGpuInstanceInfo_t;
typedef struct { unsigned int id, sliceCount, instanceCount, multiprocessorCount, sharedCopyEngineCount,
    sharedDecoderCount, sharedEncoderCount, sharedJpegCount, sharedOfaCount; } nvmlComputeInstanceProfileInfo_t;
typedef struct { nvmlDevice_t device; nvmlGpuInstance_t gpuInstance; unsigned int id, profileId;
    struct { unsigned int start, size; } placement; } nvmlComputeInstanceInfo_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId; }
    nvmlProcessInfo_t;

#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_IN_USE 19
#define NVML_ERROR_INSUFFICIENT_RESOURCES 23
#define MAX_GI 8

static struct nvmlGpuInstance_st gis[MAX_GI];
static struct nvmlComputeInstance_st cis[MAX_GI];
static struct nvmlDevice_st mig_devices[MAX_GI];
static unsigned int next_gi_id = 1;
static unsigned long long process_mib[MAX_GI]; /* set by tests through stub_set_process_memory */

static int has_instances(int gpu) {
    if (gpu != 0) return 0;
    for (int k = 0; k < MAX_GI; k++) if (gis[k].used) return 1;
    return 0;
}

static const struct profile *profile_by_id(unsigned int id) {
    for (unsigned int i = 0; i < NPROFILES; i++) if (profiles[i].info.id == id) return &profiles[i];
    return NULL;
}

nvmlReturn_t nvmlDeviceCreateGpuInstanceWithPlacement(nvmlDevice_t d, unsigned int profileId,
                                                      const nvmlGpuInstancePlacement_t *p, nvmlGpuInstance_t *gi) {
    const struct profile *pr = profile_by_id(profileId);
    if (d->index != 0 || pr == NULL || !mig_current[0]) return NVML_ERROR_NOT_SUPPORTED;
    int legal = 0;
    for (unsigned int j = 0; j < pr->nstarts; j++) legal |= pr->starts[j] == p->start;
    if (!legal || p->size != pr->size) return NVML_ERROR_INVALID_ARGUMENT;
    for (int k = 0; k < MAX_GI; k++) {
        if (gis[k].used && p->start < gis[k].start + gis[k].size && gis[k].start < p->start + p->size)
            return NVML_ERROR_INSUFFICIENT_RESOURCES;
    }
    for (int k = 0; k < MAX_GI; k++) {
        if (!gis[k].used) {
            gis[k] = (struct nvmlGpuInstance_st) {1, next_gi_id++, profileId, p->start, p->size};
            *gi = &gis[k];
            return NVML_SUCCESS;
        }
    }
    return NVML_ERROR_INSUFFICIENT_RESOURCES;
}

nvmlReturn_t nvmlGpuInstanceGetInfo(nvmlGpuInstance_t gi, nvmlGpuInstanceInfo_t *info) {
    if (!gi->used) return NVML_ERROR_INVALID_ARGUMENT;
    info->device = &devices[0];
    info->id = gi->id;
    info->profileId = gi->profileId;
    info->placement.start = gi->start;
    info->placement.size = gi->size;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstances(nvmlDevice_t d, unsigned int profileId, nvmlGpuInstance_t *out, unsigned int *count) {
    if (d->index != 0) return NVML_ERROR_NOT_SUPPORTED;
    unsigned int n = 0;
    for (int k = 0; k < MAX_GI; k++) {
        if (gis[k].used && gis[k].profileId == profileId) {
            if (out != NULL) { if (n >= *count) return NVML_ERROR_INSUFFICIENT_SIZE; out[n] = &gis[k]; }
            n++;
        }
    }
    *count = n;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpuInstanceGetComputeInstanceProfileInfo(nvmlGpuInstance_t gi, unsigned int profile, unsigned int eng,
                                                          nvmlComputeInstanceProfileInfo_t *info) {
    const struct profile *pr = profile_by_id(gi->profileId);
    unsigned int enum_for_slices[9] = {99, 0, 1, 2, 3, 99, 6, 4, 5};
    if (pr == NULL || enum_for_slices[pr->info.sliceCount] != profile || eng != 0) return NVML_ERROR_NOT_SUPPORTED;
    memset(info, 0, sizeof(*info));
    info->id = profile;
    info->sliceCount = pr->info.sliceCount;
    info->instanceCount = 1;
    info->multiprocessorCount = pr->info.multiprocessorCount;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpuInstanceCreateComputeInstance(nvmlGpuInstance_t gi, unsigned int profileId, nvmlComputeInstance_t *ci) {
    int k = (int) (gi - gis);
    if (cis[k].used) return NVML_ERROR_INSUFFICIENT_RESOURCES;
    cis[k] = (struct nvmlComputeInstance_st) {1, gi, 0};
    mig_devices[k].index = 100 + k;
    *ci = &cis[k];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpuInstanceGetComputeInstances(nvmlGpuInstance_t gi, unsigned int profileId, nvmlComputeInstance_t *out,
                                                unsigned int *count) {
    int k = (int) (gi - gis);
    unsigned int n = cis[k].used ? 1 : 0;
    if (out != NULL && n > 0) { if (*count < 1) return NVML_ERROR_INSUFFICIENT_SIZE; out[0] = &cis[k]; }
    *count = n;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlComputeInstanceGetInfo_v2(nvmlComputeInstance_t ci, nvmlComputeInstanceInfo_t *info) {
    int k = (int) (ci - cis);
    memset(info, 0, sizeof(*info));
    info->device = &mig_devices[k];
    info->gpuInstance = ci->gi;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlComputeInstanceDestroy(nvmlComputeInstance_t ci) {
    int k = (int) (ci - cis);
    if (process_mib[k] > 0) return NVML_ERROR_IN_USE;
    ci->used = 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpuInstanceDestroy(nvmlGpuInstance_t gi) {
    int k = (int) (gi - gis);
    if (cis[k].used) return NVML_ERROR_IN_USE;
    gi->used = 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) {
    unsigned int n = 0;
    if (d->index < 2 && whole_mib[d->index] > 0) {
        if (*count < 1) { *count = 1; return NVML_ERROR_INSUFFICIENT_SIZE; }
        infos[0].pid = 4343;
        infos[0].usedGpuMemory = whole_mib[d->index] << 20;
        infos[0].gpuInstanceId = 0xFFFFFFFF;
        infos[0].computeInstanceId = 0xFFFFFFFF;
        *count = 1;
        return NVML_SUCCESS;
    }
    if (d->index >= 100 && process_mib[d->index - 100] > 0) {
        if (*count < 1) { *count = 1; return NVML_ERROR_INSUFFICIENT_SIZE; }
        infos[0].pid = 4242;
        infos[0].usedGpuMemory = process_mib[d->index - 100] << 20;
        infos[0].gpuInstanceId = gis[d->index - 100].id;
        infos[0].computeInstanceId = 0;
        n = 1;
    }
    *count = n;
    return NVML_SUCCESS;
}

/* Test hook: forget every instance (each test class loads its own copy, but tests within one share it). */
void stub_reset(void) {
    memset(gis, 0, sizeof(gis));
    memset(cis, 0, sizeof(cis));
    memset(process_mib, 0, sizeof(process_mib));
    memset(whole_mib, 0, sizeof(whole_mib));
    mig_current[0] = mig_pending[0] = 1;
    mig_current[1] = mig_pending[1] = 0;
    architecture = 7;
}

/* Test hook: the GPUs' architecture (nvml.h: 7 Ampere, 9 Hopper, 10 Blackwell). */
void stub_set_architecture(unsigned int arch) { architecture = arch; }

/* Test hook: a process holding mib on a whole GPU (MIG off). */
void stub_set_whole_process_memory(unsigned int gpu, unsigned long long mib) { whole_mib[gpu] = mib; }

/* Test hook: a process holding mib on the MIG device of the GPU instance at memory slice start. */
void stub_set_process_memory(unsigned int start, unsigned long long mib) {
    for (int k = 0; k < MAX_GI; k++) if (gis[k].used && gis[k].start == start) process_mib[k] = mib;
}

/* For the layout check: sizes and offsets as this compiler lays the structs out. */
unsigned long stub_layout(int what) {
    switch (what) {
        case 0: return sizeof(nvmlGpuInstanceProfileInfo_t);
        case 1: return __builtin_offsetof(nvmlGpuInstanceProfileInfo_t, memorySizeMB);
        case 2: return sizeof(nvmlMemory_t);
        case 3: return sizeof(nvmlGpuInstancePlacement_t);
        case 4: return sizeof(nvmlGpuInstanceInfo_t);
        case 5: return sizeof(nvmlComputeInstanceProfileInfo_t);
        case 6: return sizeof(nvmlComputeInstanceInfo_t);
        case 7: return sizeof(nvmlProcessInfo_t);
        case 8: return sizeof(nvmlPciInfo_t);
        case 9: return __builtin_offsetof(nvmlPciInfo_t, busId);
        default: return 0;
    }
}
