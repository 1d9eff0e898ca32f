package dev.migm.emu;

import dev.migm.io.TextFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The emulated GPU's devices as files, the protocol between the emulated backend (which creates and
 * destroys MIG instances) and the processes that run on them (the {@code migm workload} helper, or
 * any program that follows it). Like a driver's state it lives on disk and outlives migm.
 *
 * <p>Under the root: {@code mig/MIG-<uuid>/instance.properties} describes an instance (GPU, profile,
 * SMs, memory), or with MIG off the whole GPU ({@code mig/GPU-<uuid>}, profile {@code whole}, all
 * SMs and memory); {@code mig/MIG-<uuid>/procs/<pid>} holds what each process on it uses (MiB, its power
 * activity, its progress if it reports one). A process allocates under the instance's lock and is
 * refused when the instance's memory would be exceeded, as CUDA refuses an allocation; memory of
 * processes that no longer exist does not count.
 */
public final class EmulatedDevices {
    private EmulatedDevices() {
    }

    /**
     * What a process on an instance finds out about it, and what migm finds again after a restart:
     * the GPU's model and the instance's placement start ({@code -1} and empty in files written
     * before these were kept).
     */
    public record InstanceInfo(String uuid, int gpu, String profile, int sms, int smFull, long memoryMib,
                               String gpuModel, int start) {
    }

    /** Every instance whose files are under {@code root}, as the driver would list them after a restart. */
    public static java.util.List<InstanceInfo> list(Path root) {
        java.util.List<InstanceInfo> found = new java.util.ArrayList<>();
        Path mig = root.resolve("mig");
        if (!Files.isDirectory(mig)) return found;
        try (Stream<Path> dirs = Files.list(mig)) {
            for (Path d : dirs.sorted().toList()) {
                try {
                    found.add(read(root, d.getFileName().toString()));
                } catch (IOException | RuntimeException e) {
                    // a half-written instance (migm died while creating it): the caller removes it
                    found.add(new InstanceInfo(d.getFileName().toString(), -1, "", 0, 0, 0, "", -1));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /**
     * What a process reports it uses, and its progress if it reports one, with when it last said it
     * (wall-clock milliseconds; 0: not said when: the file of an older helper).
     */
    public record Usage(long mib, double activity, OptionalDouble progress, long progressSaidAtMs) {
        public Usage(long mib, double activity, OptionalDouble progress) {
            this(mib, activity, progress, 0);
        }
    }

    public static Path instanceDir(Path root, String uuid) {
        return root.resolve("mig").resolve(uuid);
    }

    public static void create(Path root, InstanceInfo info) {
        Path dir = instanceDir(root, info.uuid());
        Properties p = new Properties();
        p.setProperty("uuid", info.uuid());
        p.setProperty("gpu", Integer.toString(info.gpu()));
        p.setProperty("profile", info.profile());
        p.setProperty("sms", Integer.toString(info.sms()));
        p.setProperty("sm_full", Integer.toString(info.smFull()));
        p.setProperty("memory_mib", Long.toString(info.memoryMib()));
        p.setProperty("gpu_model", info.gpuModel());
        p.setProperty("start", Integer.toString(info.start()));
        try {
            Files.createDirectories(dir.resolve("procs"));
            // Every user's processes may use an instance, as every user may open /dev/nvidia* (0666):
            // each writes its own usage file in procs/ (sticky: none can remove another's) under the
            // shared allocation lock.
            Files.setAttribute(dir.resolve("procs"), "unix:mode", 01777);
            Path lock = dir.resolve("alloc.lock");
            if (!Files.exists(lock)) Files.createFile(lock);
            Files.setAttribute(lock, "unix:mode", 0666);
            StringBuilder sb = new StringBuilder();
            p.stringPropertyNames().stream().sorted().forEach(k -> sb.append(k).append('=').append(p.getProperty(k))
                    .append('\n'));
            TextFiles.writeAtomically(dir.resolve("instance.properties"), sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static InstanceInfo read(Path root, String uuid) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(instanceDir(root, uuid).resolve("instance.properties"))) {
            p.load(in);
        }
        return new InstanceInfo(p.getProperty("uuid"), Integer.parseInt(p.getProperty("gpu")), p.getProperty("profile"),
                Integer.parseInt(p.getProperty("sms")), Integer.parseInt(p.getProperty("sm_full")),
                Long.parseLong(p.getProperty("memory_mib")), p.getProperty("gpu_model", ""),
                Integer.parseInt(p.getProperty("start", "-1")));
    }

    /** Removes an instance; false (and nothing removed) while a live process still uses it. */
    public static boolean destroy(Path root, String uuid) {
        Path dir = instanceDir(root, uuid);
        if (!Files.isDirectory(dir)) return true;
        if (!usages(root, uuid).isEmpty()) return false;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return true;
    }

    /**
     * Sets what process {@code pid} uses, unless that would take the instance's memory past its size:
     * then nothing changes and the answer is false (the process must fail as CUDA's allocator would).
     */
    public static boolean allocate(Path root, String uuid, long pid, Usage usage) throws IOException {
        Path dir = instanceDir(root, uuid);
        InstanceInfo info = read(root, uuid);
        try (FileChannel lock = FileChannel.open(dir.resolve("alloc.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            FileLock held = lock.lock();
            assert held.isValid();
            long others = 0;
            for (var e : usages(root, uuid).entrySet()) {
                if (e.getKey() != pid) others += e.getValue().mib();
            }
            if (others + usage.mib() > info.memoryMib()) {
                return false;
            }
            TextFiles.writeAtomically(dir.resolve("procs").resolve(Long.toString(pid)), usage.mib() + " " + usage.activity() + " "
                    + (usage.progress().isPresent() ? usage.progress().getAsDouble() : "-") + " " + usage.progressSaidAtMs()
                    + "\n");
            return true;
        }
    }

    public static void release(Path root, String uuid, long pid) {
        try {
            Files.deleteIfExists(instanceDir(root, uuid).resolve("procs").resolve(Long.toString(pid)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the live processes on an instance use, by pid; files of dead processes are removed. */
    public static Map<Long, Usage> usages(Path root, String uuid) {
        Map<Long, Usage> out = new HashMap<>();
        Path procs = instanceDir(root, uuid).resolve("procs");
        if (!Files.isDirectory(procs)) return out;
        try (Stream<Path> files = Files.list(procs)) {
            for (Path f : files.toList()) {
                long pid;
                try {
                    pid = Long.parseLong(f.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (dev.migm.io.Procs.alive(pid)) {
                    String[] t = Files.readString(f).strip().split(" ");
                    if (t.length == 3 || t.length == 4) {
                        out.put(pid, new Usage(Long.parseLong(t[0]), Double.parseDouble(t[1]),
                                t[2].equals("-") ? OptionalDouble.empty() : OptionalDouble.of(Double.parseDouble(t[2])),
                                t.length == 4 ? Long.parseLong(t[3]) : 0));
                    }
                } else {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException e) {
                        // another user's leftover (the sticky procs/): the daemon, or its owner, removes it
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // a file being replaced as we read: the next sample reads it
        }
        return out;
    }

}
