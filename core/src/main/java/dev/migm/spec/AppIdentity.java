package dev.migm.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a job is, for learning from history, when its submitter did not name it ({@code app}): the
 * program or script it runs, with the arguments that say which model or configuration it runs
 * ({@code python train.py --model resnet50} is {@code train.py --model resnet50}), never the
 * interpreter or launcher alone (every Python job would otherwise share one history, and one
 * application's peaks would size another's). Launchers and interpreters are skipped with their own
 * options; {@code -m module} names the module.
 */
public final class AppIdentity {
    private AppIdentity() {
    }

    /** Interpreters and launchers that run another program, skipped for the program they run. */
    static final Set<String> LAUNCHERS = Set.of("python", "python2", "python3", "pypy", "pypy3", "torchrun", "accelerate",
            "deepspeed", "srun", "mpirun", "mpiexec", "bash", "sh", "zsh", "env", "uv", "conda", "nohup", "time",
            "stdbuf", "numactl", "taskset", "nice", "exec", "launch", "run", "java", "node", "Rscript", "julia", "apptainer",
            "singularity");

    /** Arguments whose value says which model, checkpoint or configuration a job runs. */
    static final Set<String> MODEL_ARGS = Set.of("--model", "--model-name", "--model_name", "--model_name_or_path",
            "--model-name-or-path", "--model_path", "--model-path", "--config", "--config-name", "--config_name", "--cfg",
            "--arch", "--task", "--dataset");

    /** The identity of a job running {@code argv} ({@code [/bin/sh, -c, line]} is split into words); {@code name} when it runs nothing else. */
    public static String of(List<String> argv, String name) {
        List<String> words = argv.size() == 3 && (argv.get(0).equals("/bin/sh") || argv.get(0).equals("sh"))
                && argv.get(1).equals("-c") ? List.of(argv.get(2).strip().split("\\s+")) : argv;
        String program = null;
        List<String> model = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (program == null) {
                String base = basename(w);
                if (w.isEmpty() || w.contains("=") && !w.startsWith("-")) continue; // VAR=value before the program
                if (w.equals("-c")) break; // code on the command line: no program to name
                if (w.equals("-m") && i + 1 < words.size()) {
                    program = words.get(++i);
                    continue;
                }
                // Options of the launchers, and their numeric values (torchrun --nproc_per_node 4 train.py).
                if (w.startsWith("-") || !w.matches(".*[A-Za-z].*") || LAUNCHERS.contains(base)
                        || base.matches("python\\d+(\\.\\d+)?")) continue;
                program = base;
                continue;
            }
            String key = w.contains("=") ? w.substring(0, w.indexOf('=')) : w;
            if (MODEL_ARGS.contains(key)) {
                String value = w.contains("=") ? w.substring(w.indexOf('=') + 1) : i + 1 < words.size() ? words.get(++i) : "";
                if (!value.isEmpty()) model.add(key + " " + basename(value));
            }
        }
        if (program == null) return name;
        String id = model.isEmpty() ? program : program + " " + String.join(" ", model);
        return id.length() > 200 ? id.substring(0, 200) : id;
    }

    private static String basename(String path) {
        String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        return p.substring(p.lastIndexOf('/') + 1);
    }
}
