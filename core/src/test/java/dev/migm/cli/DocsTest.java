package dev.migm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Help, the man page and shell completion, all generated from the command definitions. */
final class DocsTest {
    private static final List<String> VERBS = List.of("gpus", "profiles", "layouts", "plan", "import-smi", "export",
            "import-mig-parted", "simulate", "generate-trace", "run", "workload", "completion", "man");

    @ParameterizedTest
    @ValueSource(strings = {"gpus", "profiles", "layouts", "plan", "import-smi", "export", "import-mig-parted",
            "simulate", "generate-trace", "run", "workload", "completion", "man"})
    void everyVerb_hasHelpWithExamples_bothWays(String verb) {
        CliTest.Result flag = CliTest.run(verb, "--help");
        CliTest.Result help = CliTest.run("help", verb);
        assertThat(flag.status()).isZero();
        assertThat(flag.out()).startsWith("Usage: migm " + verb).contains("Examples:").contains("  migm " + verb);
        assertThat(help.out()).isEqualTo(flag.out());
    }

    @Test
    void theManPage_coversEveryVerbAndTheExitStatuses_andGroffReadsItWithoutWarnings(@TempDir Path dir)
            throws Exception {
        CliTest.Result r = CliTest.run("man");
        assertThat(r.status()).isZero();
        assertThat(r.out()).startsWith(".TH MIGM 1");
        for (String verb : VERBS) {
            assertThat(r.out()).contains(".SS " + verb.replace("-", "\\-"));
        }
        assertThat(r.out()).contains(".SH EXIT STATUS").contains(".B 3\n");
        // Every variable the code reads by name is in ENVIRONMENT (a new getenv without a line here fails).
        String environment = r.out().substring(r.out().indexOf(".SH ENVIRONMENT"), r.out().indexOf(".SH FILES"));
        java.util.regex.Pattern read = java.util.regex.Pattern.compile("getenv\\(\"([A-Z_]+)\"\\)|\"(XDG_[A-Z_]+)\"");
        java.util.Set<String> names = new java.util.TreeSet<>();
        try (var sources = Files.walk(Path.of("src/main/java"))) {
            for (Path f : sources.filter(f -> f.toString().endsWith(".java")).toList()) {
                var m = read.matcher(Files.readString(f));
                while (m.find()) names.add(m.group(1) != null ? m.group(1) : m.group(2));
            }
        }
        assertThat(names).contains("MIGM_HOME", "MIGM_SOCKET", "XDG_STATE_HOME", "SLURM_CONF");
        for (String name : names) assertThat(environment).as(name).contains(name);
        assertThat(environment).contains("CUDA_VISIBLE_DEVICES", "MIGM_CHECKPOINT_DIR", "MIGM_HEAP");
        Path groff = Path.of("/usr/bin/groff");
        if (Files.isExecutable(groff)) {
            Path page = dir.resolve("migm.1");
            Files.writeString(page, r.out());
            Process p = new ProcessBuilder(groff.toString(), "-man", "-Tutf8", "-ww", page.toString())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(false).start();
            String warnings = new String(p.getErrorStream().readAllBytes());
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(warnings).isEmpty();
            assertThat(p.exitValue()).isZero();
        }
    }

    @Test
    void theCompletionScript_isValidBash_andKnowsEveryVerb(@TempDir Path dir) throws IOException, InterruptedException {
        CliTest.Result r = CliTest.run("completion");
        assertThat(r.status()).isZero();
        for (String verb : VERBS) {
            assertThat(r.out()).contains(verb);
        }
        Path script = dir.resolve("migm-completion.bash");
        Files.writeString(script, r.out());
        Process p = new ProcessBuilder("bash", "-c", "source " + script + " && complete -p migm").redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("migm");
        // Values complete too, from the registries: what bash offers after `migm simulate --gpu H` and
        // after `migm queue --state ru`.
        assertThat(complete(script, "migm", "simulate", "--gpu", "H")).contains("H100-80GB").doesNotContain("A100-40GB");
        assertThat(complete(script, "migm", "simulate", "--policies", "")).contains("migm", "serial", "s1");
        assertThat(complete(script, "migm", "simulate", "--estimate", "oracle")).contains("oracle", "oracle-memory");
        assertThat(complete(script, "migm", "queue", "--state", "ru")).containsExactly("running");
    }

    /** The words bash's completion of migm offers for the last of {@code words}. */
    private static List<String> complete(Path script, String... words) throws IOException, InterruptedException {
        String line = String.join(" ", words);
        String cmd = "source " + script + "; COMP_WORDS=(" + line.replace("\"", "") + (line.endsWith(" ") || words[words.length - 1]
                .isEmpty() ? " ''" : "") + "); COMP_CWORD=" + (words.length - 1) + "; COMP_LINE='" + line + "'; COMP_POINT="
                + line.length() + "; _complete_migm migm 2>/dev/null; printf '%s\\n' \"${COMPREPLY[@]}\"";
        Process p = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void theSlurmRecipe_showsTheConfigItsScriptWrites_andThePackageShipsIt() throws IOException {
        // docs/slurm.md, "A one-node cluster from scratch": every line of its slurm.conf block is a
        // line the script writes (packaging/deb/test.sh runs the script; this keeps the doc its copy).
        String doc = Files.readString(Path.of("../docs/slurm.md"));
        String script = Files.readString(Path.of("../packaging/slurm/one-node.sh"));
        int section = doc.indexOf("### A one-node cluster from scratch");
        assertThat(section).isPositive();
        int conf = doc.indexOf("```\nClusterName=migm", section);
        assertThat(conf).isPositive();
        String block = doc.substring(conf + 4, doc.indexOf("```", conf + 4));
        List<String> scriptLines = script.lines().toList();
        for (String line : block.lines().toList()) {
            assertThat(scriptLines).as("docs/slurm.md's slurm.conf line is in one-node.sh").contains(line);
        }
        assertThat(doc.substring(section)).contains("/usr/share/migm/slurm/one-node.sh up");
        assertThat(Files.readString(Path.of("../packaging/deb/build.sh")))
                .contains("packaging/slurm/one-node.sh\" \"$pkg/usr/share/migm/slurm/");
    }
}
