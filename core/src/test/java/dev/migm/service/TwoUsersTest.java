package dev.migm.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.migm.exec.RunAs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two real users on one node: root and {@code nobody}, each running the CLI as themselves (nobody's
 * through {@code setpriv}), against a daemon run as root on the emulated GPU. Needs root (CI runs
 * as root); skipped elsewhere.
 */
class TwoUsersTest {
    private static Path base;
    /** The CLI's class path, copied where nobody can read it (a build under /root is not). */
    private static String publicClassPath;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(RunAs.processIsRoot(), "needs root: jobs run as their submitters only under a root daemon");
        assumeTrue(RunAs.lookup("nobody").isPresent(), "needs the user nobody");
        base = Files.createTempDirectory("migm-users-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        publicClassPath = PublicClassPath.copyTo(base.resolve("cp"));
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (base == null) return;
        try (Stream<Path> all = Files.walk(base)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    record Result(int rc, String out) {
    }

    /** {@code migm ARGS} as {@code nobody} (real uid and gid 65534, no other group), from {@code cwd}. */
    static Result asNobody(Path cwd, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--", java, "-Xmx128m", "-cp", publicClassPath, "dev.migm.cli.Main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    @Test
    @Timeout(240)
    void jobsRunAsTheirSubmitters_andNobodyReachesAnothersJob() throws Exception {
        Path home = base.resolve("node");
        Path sock = home.resolve("migm.sock");
        Path rootWork = Files.createDirectories(base.resolve("root-work"));
        Path nobodyWork = Files.createDirectories(base.resolve("nobody-work"));
        new RunAs("nobody", 65534, 65534).own(nobodyWork, "rwx------");
        try (DaemonProcess _ = DaemonProcess.start(home, "--socket-group", "nogroup", "--gpu", "A100-40GB",
                "--time-scale", "20", "--http-listen", "off")) {
            // root's job: says who it is, keeps a secret in its checkpoints, and runs until cancelled.
            Files.writeString(rootWork.resolve("root.yaml"), """
                    version: v1
                    jobs:
                      - name: roots
                        memory: 4GiB
                        command: ["sh", "-c", "id -u; echo secret >\\"$MIGM_CHECKPOINT_DIR/secret\\"; sleep 120"]
                    """);
            ServiceCliTest.Result submitted = ServiceCliTest.migm(home, "submit", rootWork.resolve("root.yaml").toString());
            assertThat(submitted.rc()).as(submitted.err()).isZero();
            String rootJob = submitted.out().strip();
            Path rootDir = home.resolve("jobs").resolve(rootJob);
            awaitFile(rootDir.resolve("checkpoints").resolve("secret"));

            // nobody's job tries to write into root's job directory and its checkpoints, and to read
            // root's secret; it prints who it is, its groups, where it runs and its environment.
            String attack = String.join("; ", "id -u", "id -G", "pwd",
                    "touch " + rootDir + "/planted && echo WROTE-JOB-DIR",
                    "echo x >" + rootDir + "/checkpoints/planted && echo WROTE-CHECKPOINTS",
                    "cat " + rootDir + "/checkpoints/secret",
                    "echo mine >\"$MIGM_CHECKPOINT_DIR/mine\" && echo WROTE-OWN",
                    "env | sort");
            Files.writeString(nobodyWork.resolve("mine.yaml"), """
                    version: v1
                    jobs:
                      - name: nobodys
                        memory: 4GiB
                        env: {LD_PRELOAD: /nonexistent/preload.so}
                        command: ["sh", "-c", "%s"]
                    """.formatted(attack.replace("\"", "\\\"")));
            new RunAs("nobody", 65534, 65534).own(nobodyWork.resolve("mine.yaml"), "rw-------");
            Result mine = asNobody(nobodyWork, "submit", "mine.yaml", "--socket", sock.toString());
            assertThat(mine.rc()).as(mine.out()).isZero();
            String nobodyJob = mine.out().strip();
            awaitEnded(home, nobodyJob);

            Result log = asNobody(nobodyWork, "logs", nobodyJob, "--socket", sock.toString());
            assertThat(log.rc()).as(log.out()).isZero();
            List<String> lines = log.out().lines().toList();
            assertThat(lines.get(0)).isEqualTo("65534");
            assertThat(lines.get(1)).isEqualTo("65534"); // nobody's groups, none of root's
            assertThat(lines.get(2)).isEqualTo(nobodyWork.toString()); // submitted from there, as sbatch
            assertThat(log.out()).doesNotContain("WROTE-JOB-DIR", "WROTE-CHECKPOINTS", "secret").contains("WROTE-OWN");
            assertThat(rootDir.resolve("planted")).doesNotExist();
            assertThat(rootDir.resolve("checkpoints").resolve("planted")).doesNotExist();
            // A clean environment: the user's own entry, a fixed PATH, migm's variables, the job's.
            assertThat(lines).contains("USER=nobody", "HOME=/nonexistent", "PATH=/usr/local/bin:/bin:/usr/bin",
                    "LD_PRELOAD=/nonexistent/preload.so", "MIGM_JOB_ID=" + nobodyJob);
            assertThat(lines).noneMatch(l -> l.startsWith("JAVA_HOME=") || l.startsWith("MAVEN_OPTS="));
            // LD_PRELOAD reached the job (its own shell complains of it) and never the root supervisor.
            Path nobodyDir = home.resolve("jobs").resolve(nobodyJob);
            assertThat(Files.readString(nobodyDir.resolve("attempt-1.err"))).contains("preload.so");
            Path supervisorLog = nobodyDir.resolve("attempt-1.supervisor-log");
            assertThat(Files.exists(supervisorLog) ? Files.readString(supervisorLog) : "").doesNotContain("preload");
            // Its files are its own, and nobody else's to read.
            assertThat(Files.getOwner(nobodyDir.resolve("attempt-1.out")).getName()).isEqualTo("nobody");
            assertThat(Files.getOwner(nobodyDir.resolve("checkpoints").resolve("mine")).getName()).isEqualTo("nobody");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(nobodyDir.resolve("checkpoints"))))
                    .isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("journal.db"))))
                    .isEqualTo("rw-------");

            // root's job ran as root (allowed on this daemon).
            assertThat(ServiceCliTest.migm(home, "logs", rootJob).out().strip()).isEqualTo("0");

            // nobody sees every job's state, but cannot cancel root's job or read its logs.
            Result queue = asNobody(nobodyWork, "queue", "--all", "--socket", sock.toString());
            assertThat(queue.out()).contains("roots", "nobodys");
            Result cancel = asNobody(nobodyWork, "cancel", rootJob, "--socket", sock.toString());
            assertThat(cancel.rc()).isEqualTo(1);
            assertThat(cancel.out()).contains("belongs to root");
            Result peek = asNobody(nobodyWork, "logs", rootJob, "--socket", sock.toString());
            assertThat(peek.rc()).isEqualTo(1);
            assertThat(peek.out()).contains("belongs to root").doesNotContain("secret");
            Result drain = asNobody(nobodyWork, "drain", "0", "--socket", sock.toString());
            assertThat(drain.rc()).isEqualTo(1);
            assertThat(drain.out()).contains("only an admin");

            // A variable migm sets is refused with its place, and the submit changes nothing.
            Files.writeString(nobodyWork.resolve("bad.yaml"), """
                    version: v1
                    jobs:
                      - {name: ok, command: ["true"], memory: 1GiB}
                      - {name: sneaky, command: ["true"], memory: 1GiB, env: {CUDA_VISIBLE_DEVICES: "0"}}
                    """);
            new RunAs("nobody", 65534, 65534).own(nobodyWork.resolve("bad.yaml"), "rw-------");
            Result bad = asNobody(nobodyWork, "submit", "bad.yaml", "--socket", sock.toString());
            assertThat(bad.rc()).isEqualTo(2);
            assertThat(bad.out()).contains("bad.yaml:4:", "CUDA_VISIBLE_DEVICES is set by migm");
            assertThat(asNobody(nobodyWork, "queue", "--all", "--socket", sock.toString()).out()).doesNotContain("sneaky");

            // root, an admin, may cancel anyone's job; this one is its own.
            assertThat(ServiceCliTest.migm(home, "cancel", rootJob).rc()).isZero();
            awaitEnded(home, rootJob);
        }
    }

    @Test
    @Timeout(180)
    void anotherUsersSecrets_areInNoArgvAndNoFileOthersCanRead() throws Exception {
        // nobody's job has a token in its env: while it runs (it waits for a file the test writes), no
        // process's argv (the root supervisor's, setpriv's, the job's) and no file others may read holds
        // it; the job itself gets it (it prints its digest).
        Path home = base.resolve("secrets");
        Path work = Files.createDirectories(base.resolve("secrets-work"));
        new RunAs("nobody", 65534, 65534).own(work, "rwx------");
        String secret = "hf_" + java.util.UUID.randomUUID().toString().replace("-", "");
        Path go = base.resolve("secrets-go");
        try (DaemonProcess _ = DaemonProcess.start(home, "--socket-group", "nogroup", "--gpu", "A100-40GB",
                "--time-scale", "20", "--http-listen", "off")) {
            Files.writeString(work.resolve("s.yaml"), """
                    version: v1
                    jobs:
                      - name: secretive
                        memory: 1GiB
                        env: {HF_TOKEN: "%s"}
                        command: ["sh", "-c", "while [ ! -e %s ]; do sleep 0.05; done; printf %%s \\"$HF_TOKEN\\" | sha256sum"]
                    """.formatted(secret, go));
            new RunAs("nobody", 65534, 65534).own(work.resolve("s.yaml"), "rw-------");
            Result r = asNobody(work, "submit", "s.yaml", "--socket", home.resolve("migm.sock").toString());
            assertThat(r.rc()).as(r.out()).isZero();
            String id = r.out().strip();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (DaemonProcess.count(home, "SELECT count(*) FROM attempts WHERE job=" + id + " AND running_at IS NOT NULL") == 0) {
                assertThat(System.nanoTime()).as("the job runs").isLessThan(deadline);
                Thread.sleep(50);
            }
            Thread.sleep(300);
            SecretsTest.assertNowhereButTheJob(secret, home);
            Files.writeString(go, "");
            awaitEnded(home, id);
            Result log = asNobody(work, "logs", id, "--socket", home.resolve("migm.sock").toString());
            assertThat(log.out().strip().split(" ")[0]).isEqualTo(SecretsTest.sha256(secret));
        }
    }

    @Test
    @Timeout(120)
    void aRootDaemonRefusesRootsJobsUnlessAllowed() throws Exception {
        Path home = base.resolve("strict");
        Path work = Files.createDirectories(base.resolve("strict-work"));
        Files.writeString(work.resolve("j.yaml"), "version: v1\njobs:\n  - {name: j, command: [\"true\"], memory: 1GiB}\n");
        try (DaemonProcess _ = DaemonProcess.startExactly(home, "--http-listen", "off")) {
            ServiceCliTest.Result r = ServiceCliTest.migm(home, "submit", work.resolve("j.yaml").toString());
            assertThat(r.rc()).isEqualTo(1);
            assertThat(r.err()).contains("would run as root", "allow_root_jobs");
            assertThat(ServiceCliTest.migm(home, "queue", "--all").out()).doesNotContain(" j ");
        }
    }

    private static void awaitFile(Path file) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(file)) {
            assertThat(System.nanoTime()).as("waiting for " + file).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static void awaitEnded(Path home, String id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            if (DaemonProcess.count(home, "SELECT COUNT(*) FROM jobs WHERE id = " + Long.parseLong(id)
                    + " AND ended_at IS NOT NULL") == 1) {
                return;
            }
            assertThat(System.nanoTime()).as("waiting for job " + id + " to end").isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
