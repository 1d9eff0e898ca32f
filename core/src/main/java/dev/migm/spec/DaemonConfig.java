package dev.migm.spec;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The node service's configuration file ({@code version: v1}), e.g. {@code packaging/migm.yaml}:
 *
 * <pre>
 * version: v1
 * home: /var/lib/migm          # journal, job directories, emulated GPU state
 * socket: /run/migm/migm.sock  # the API (default HOME/migm.sock)
 * socket_group: migm           # may connect besides the daemon's user (default: nobody else)
 * backend: auto                # emulated | nvml | auto
 * gpu: A100-40GB:2             # the emulated GPUs
 * policy: migm
 * time_scale: 1                # emulated GPUs only
 * nvml_library: libnvidia-ml.so.1
 * allow_mig_mode_change: false # let migm turn MIG on and off on idle GPUs (NVML, Hopper and newer)
 * http_listen: 127.0.0.1:9410  # the read-only HTTP view (/metrics), loopback only; off to disable
 * admin_group: migm-admin      # may cancel any job, read any job's logs, drain GPUs (root always may)
 * allow_root_jobs: false       # a daemon run as root runs each job as its submitter; root's jobs only if true
 * slurm_requeue_oom: false     # a Slurm job that ran out of GPU memory is requeued with a larger gpumem (docs/slurm.md)
 * slurm_reconcile_s: 30        # how often open Slurm slices are checked against Slurm (lost Epilogs)
 * </pre>
 *
 * Every field is optional; command-line flags override the file. Unknown fields and bad values are
 * refused with file, line and column.
 */
public record DaemonConfig(Optional<Path> home, Optional<Path> socket, Optional<String> socketGroup,
                           Optional<String> backend, Optional<String> gpu, Optional<String> policy,
                           OptionalDouble timeScale, Optional<String> nvmlLibrary, boolean allowMigModeChange,
                           Optional<Optional<ListenAddress>> httpListen, Optional<String> adminGroup,
                           boolean allowRootJobs, boolean slurmRequeueOom, OptionalDouble slurmReconcileS) {
    private static final Set<String> FIELDS = Set.of("version", "home", "socket", "socket_group", "backend", "gpu",
            "policy", "time_scale", "nvml_library", "allow_mig_mode_change", "http_listen", "admin_group",
            "allow_root_jobs", "slurm_requeue_oom", "slurm_reconcile_s");

    /** No file: every default. */
    public static final DaemonConfig DEFAULTS = new DaemonConfig(Optional.empty(), Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.empty(), OptionalDouble.empty(), Optional.empty(), false,
            Optional.empty(), Optional.empty(), false, false, OptionalDouble.empty());

    public static DaemonConfig read(Path file) {
        return parse(TextFiles.read(file, 1 << 20), file.toString());
    }

    public static DaemonConfig parse(String text, String source) {
        Yaml.Node root = Yaml.parse(text, source);
        if (!(root instanceof Yaml.MapNode top)) {
            throw new InvalidInputException(root.where() + ": expected a mapping of name: value");
        }
        for (var k : top.keys().entrySet()) {
            if (!FIELDS.contains(k.getKey())) {
                throw new InvalidInputException(k.getValue() + ": " + TextFiles.quote(k.getKey()).replace("'", "")
                        + ": unknown field (expected one of " + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
            }
        }
        Yaml.Scalar version = scalar(top, "version");
        if (version == null || !version.text().equals("v1")) {
            throw new InvalidInputException((version == null ? top.where() : version.where()) + ": version: expected v1"
                    + (version == null ? "" : ", got " + TextFiles.quote(version.text())));
        }
        Optional<String> backend = text(top, "backend");
        if (backend.isPresent() && !Set.of("emulated", "nvml", "auto").contains(backend.get())) {
            throw new InvalidInputException(scalar(top, "backend").where() + ": backend: expected emulated, nvml or auto,"
                    + " got " + TextFiles.quote(backend.get()));
        }
        OptionalDouble scale = positive(top, "time_scale", 10_000);
        return new DaemonConfig(path(top, "home"), path(top, "socket"), text(top, "socket_group"), backend,
                text(top, "gpu"), text(top, "policy"), scale, text(top, "nvml_library"),
                bool(top, "allow_mig_mode_change"),
                text(top, "http_listen").map(t -> ListenAddress.parse(t, scalar(top, "http_listen").where() + ": http_listen")),
                text(top, "admin_group"), bool(top, "allow_root_jobs"), bool(top, "slurm_requeue_oom"),
                positive(top, "slurm_reconcile_s", 86_400));
    }

    /** A number in (0, max], if the field is there. */
    private static OptionalDouble positive(Yaml.MapNode m, String field, double max) {
        Yaml.Scalar s = scalar(m, field);
        if (s == null) return OptionalDouble.empty();
        double v;
        try {
            v = Double.parseDouble(s.text().strip());
        } catch (NumberFormatException e) {
            v = Double.NaN;
        }
        if (!(v > 0 && v <= max)) {
            throw new InvalidInputException(s.where() + ": " + field + ": expected a number in (0, "
                    + String.format(java.util.Locale.ROOT, "%.0f", max) + "], got " + TextFiles.quote(s.text()));
        }
        return OptionalDouble.of(v);
    }

    private static boolean bool(Yaml.MapNode m, String field) {
        Optional<String> v = text(m, field);
        if (v.isPresent() && !Set.of("true", "false").contains(v.get())) {
            throw new InvalidInputException(scalar(m, field).where() + ": " + field + ": expected true or false, got "
                    + TextFiles.quote(v.get()));
        }
        return v.map(Boolean::parseBoolean).orElse(false);
    }

    private static Yaml.Scalar scalar(Yaml.MapNode m, String field) {
        Yaml.Node n = m.values().get(field);
        if (n == null) return null;
        if (!(n instanceof Yaml.Scalar s) || s.isNull()) {
            throw new InvalidInputException(n.where() + ": " + field + ": expected a single value");
        }
        return s;
    }

    private static Optional<String> text(Yaml.MapNode m, String field) {
        Yaml.Scalar s = scalar(m, field);
        if (s == null) return Optional.empty();
        if (s.text().isBlank() || s.text().length() > 4096) {
            throw new InvalidInputException(s.where() + ": " + field + ": expected a non-empty value");
        }
        return Optional.of(s.text());
    }

    private static Optional<Path> path(Yaml.MapNode m, String field) {
        Optional<String> t = text(m, field);
        if (t.isPresent() && !t.get().startsWith("/")) {
            throw new InvalidInputException(scalar(m, field).where() + ": " + field + ": expected an absolute path, got "
                    + TextFiles.quote(t.get()));
        }
        return t.map(Path::of);
    }
}
