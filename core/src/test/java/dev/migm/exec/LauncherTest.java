package dev.migm.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.migm.engine.Attempt;
import dev.migm.engine.DeviceView;
import dev.migm.engine.EngineEvent;
import dev.migm.engine.JobClass;
import dev.migm.engine.JobSpec;
import dev.migm.engine.Outcome;
import dev.migm.engine.Slot;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.Layout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the launcher does before a job runs, as the job's user: a working directory that cannot be
 * entered or a program that is not there (or may not be run) ends the attempt as
 * {@link Outcome.CannotStart} with the reason, which the engine fails the job on at once (issue 24:
 * each such attempt exited 125 and was retried until max_attempts). A program's own failure, even
 * with the same status, stays a crash.
 */
final class LauncherTest {
    private static final Slot SLOT = Slot.of(0, Layout.parse(Catalog.builtin().get("A100-40GB"), "1g.5gb@0")
            .instances().getFirst());
    private static final DeviceView DEVICES = new DeviceView() {
        @Override
        public String deviceName(Slot slot) {
            return "MIG-test";
        }

        @Override
        public SlotUsage usage(Slot slot) {
            return new SlotUsage(0, OptionalDouble.empty());
        }

        @Override
        public Map<String, String> environment() {
            return Map.of();
        }
    };

    private static Outcome run(Path dir, List<String> argv, Path workdir) throws Exception {
        JobSpec spec = new JobSpec("j", 0, "app", JobClass.OTHER, OptionalLong.empty(), false);
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        try (ProcessExecutor executor = new ProcessExecutor(dir, id -> new ProcessExecutor.Launch(argv, Map.of(), workdir),
                DEVICES, 1, 1, 1)) {
            executor.launch(new Attempt("j", 1, SLOT, 0, 0), spec, event -> {
                if (event instanceof EngineEvent.AttemptExited x) outcome.complete(x.outcome());
            });
            return outcome.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void whatTheJobsUserCannotStart_isCannotStart_withTheReason(@TempDir Path dir) throws Exception {
        assertThat(run(dir, List.of("sleep", "0"), dir.resolve("gone"))).isEqualTo(new Outcome.CannotStart(
                "its working directory " + dir.resolve("gone") + " does not exist or cannot be entered by "
                        + System.getProperty("user.name")));
        assertThat(run(dir, List.of("no-such-program-x", "a"), dir)).isInstanceOfSatisfying(Outcome.CannotStart.class,
                c -> assertThat(c.reason()).startsWith("command not found: no-such-program-x (PATH "));
        Path text = Files.writeString(dir.resolve("notes.txt"), "hello\n");
        assertThat(run(dir, List.of(text.toString()), dir)).isEqualTo(new Outcome.CannotStart(text + " is not a program "
                + System.getProperty("user.name") + " may run"));
        assertThat(run(dir, List.of("./missing.sh"), dir)).isEqualTo(new Outcome.CannotStart("no such program: ./missing.sh"));
        // A shell line's first word is checked too.
        assertThat(run(dir, List.of("/bin/sh", "-c", "pythn-x train.py --epochs 3"), dir))
                .isInstanceOfSatisfying(Outcome.CannotStart.class,
                        c -> assertThat(c.reason()).startsWith("command not found: pythn-x"));
    }

    @Test
    void aProgramsOwnFailure_staysACrash_evenWithTheLaunchersStatus(@TempDir Path dir) throws Exception {
        assertThat(run(dir, List.of("sh", "-c", "echo 'migm: cannot start the job: a lie' >&2; exit 3"), dir))
                .isEqualTo(new Outcome.Crashed("exit status 3: migm: cannot start the job: a lie"));
        assertThat(run(dir, List.of("sh", "-c", "echo started; echo 'something failed' >&2; exit 125"), dir))
                .isEqualTo(new Outcome.Crashed("exit status 125: something failed"));
        assertThat(run(dir, List.of("true"), dir)).isEqualTo(new Outcome.Completed(0, 0));
    }
}
