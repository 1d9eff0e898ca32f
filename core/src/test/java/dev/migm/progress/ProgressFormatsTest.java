package dev.migm.progress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Progress read from real job output (the fixtures under {@code progress/} are excerpts of logs posted
 * in public issues, each with its source on its first line), through {@link OutputProgress} as the
 * live executor reads an attempt's files.
 */
final class ProgressFormatsTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        try {
            return Path.of(ProgressFormatsTest.class.getResource("/progress/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static OutputProgress read(String fixture, String format, OptionalLong steps) {
        OutputProgress p = new OutputProgress(ProgressFormats.reader(format, steps).orElseThrow(), List.of(fixture(fixture)));
        p.poll();
        return p;
    }

    @Test
    void hfTrainerUnderDeepSpeed_readsTheTrainersBar() {
        // The tqdm bar of optimizer steps: 1999 of 24128 (the DeepSpeed line on the same record says step 2000).
        OutputProgress p = read("hf-trainer-deepspeed.log", "auto", OptionalLong.empty());
        assertThat(p.poll().getAsDouble()).isCloseTo(1999.0 / 24128, within(1e-9));
        assertThat(p.total()).hasValue(24128);
        assertThat(p.step()).hasValue(1999);
    }

    @Test
    void vllmOffline_readsProcessedPromptsAcrossCarriageReturns() {
        for (String format : List.of("auto", "vllm", "tqdm")) {
            OutputProgress p = read("vllm-offline.log", format, OptionalLong.empty());
            assertThat(p.poll().getAsDouble()).as(format).isCloseTo(217 / 1000.0, within(1e-9));
            assertThat(p.total()).hasValue(1000);
        }
    }

    @Test
    void lightningsTqdmBar_needsAnEpochCount_andValidationBarsAreNotTheJob() {
        // "Epoch 0: 92% 940/1016" is the first epoch's share, not the job's: without max_epochs, nothing.
        assertThat(read("lightning-tqdm.log", "auto", OptionalLong.empty()).poll()).isEmpty();
        // With an epoch count (Lightning prints max_epochs=N in its messages) it is epoch 0 of 2:
        // (0 + 940/1016) / 2.
        OutputProgress p = new OutputProgress(ProgressFormats.reader("lightning", OptionalLong.empty()).orElseThrow(),
                List.of(withFirst("Trainer(max_epochs=2)", "lightning-tqdm.log")));
        assertThat(p.poll().getAsDouble()).isCloseTo(940.0 / 1016 / 2, within(1e-9));
        // The rich bar says the epoch count itself: epoch 3 of 0..9, 450 of 1000 batches: (3 + 0.45) / 10.
        assertThat(read("lightning-rich.log", "auto", OptionalLong.empty()).poll().getAsDouble()).isCloseTo(0.345, within(1e-9));
    }

    @Test
    void kerasFit_readsEpochsAndSteps() {
        // Epoch 3 of 12 (from 1), 29312 of 60000 samples: (2 + 0.48853) / 12.
        OutputProgress p = read("keras-fit.log", "keras", OptionalLong.empty());
        assertThat(p.poll().getAsDouble()).isCloseTo((2 + 29312.0 / 60000) / 12, within(1e-9));
        assertThat(read("keras-fit.log", "auto", OptionalLong.empty()).poll().getAsDouble())
                .isCloseTo((2 + 29312.0 / 60000) / 12, within(1e-9));
    }

    @Test
    void deepSpeed_saysAStep_aShareOnlyWithADeclaredTotal() {
        OutputProgress alone = read("deepspeed.log", "deepspeed", OptionalLong.empty());
        assertThat(alone.poll()).isEmpty();
        assertThat(alone.step()).hasValue(50);
        OutputProgress declared = read("deepspeed.log", "deepspeed", OptionalLong.of(200));
        assertThat(declared.poll().getAsDouble()).isCloseTo(0.25, within(1e-9));
    }

    @Test
    void hfTrainerLogs_readTheEpochAgainstNumEpochs() {
        // 'epoch': 0.537 of Num Epochs = 3.
        assertThat(read("hf-trainer-logs.log", "hf", OptionalLong.empty()).poll().getAsDouble())
                .isCloseTo(0.5372340425531915 / 3, within(1e-9));
    }

    @Test
    void aJobFilesPattern_withNamedGroups() throws IOException {
        Path out = dir.resolve("out");
        Files.writeString(out, "iter 10 of 400 loss 2.1\niter 30 of 400 loss 1.9\n");
        OutputProgress p = new OutputProgress(ProgressFormats.reader("iter (?<done>\\d+) of (?<total>\\d+)",
                OptionalLong.empty()).orElseThrow(), List.of(out));
        assertThat(p.poll().getAsDouble()).isCloseTo(30 / 400.0, within(1e-9));
        // Read as it is written: a later call reads only what was added, and a lower figure (a bar
        // drawn again, a second bar) never takes the share back.
        Files.writeString(out, "iter 100 of 400\niter 20 of 400\n", java.nio.file.StandardOpenOption.APPEND);
        assertThat(p.poll().getAsDouble()).isCloseTo(0.25, within(1e-9));
        Path pct = dir.resolve("pct");
        Files.writeString(pct, "[epoch 2/5] 40.0% done\n");
        OutputProgress q = new OutputProgress(ProgressFormats.reader(
                "\\[epoch (?<epoch>\\d+)/(?<epochs>\\d+)\\] (?<percent>[0-9.]+)%", OptionalLong.empty()).orElseThrow(),
                List.of(pct));
        assertThat(q.poll().getAsDouble()).isCloseTo((1 + 0.4) / 5, within(1e-9));
    }

    @Test
    void badPatterns_areRefusedWithWhatIsExpected() {
        assertThatThrownBy(() -> ProgressFormats.check("iter (\\d+)")).hasMessageContaining("named groups");
        assertThatThrownBy(() -> ProgressFormats.check("iter (?<done>\\d+")).hasMessageContaining("regular expression");
        assertThatThrownBy(() -> ProgressFormats.check("(?<done>\\d+)/(?<all>\\d+)")).hasMessageContaining("named groups");
        assertThatThrownBy(() -> ProgressFormats.check("(?<percent>\\d+) (?<foo>x)")).hasMessageContaining("unknown group");
        ProgressFormats.check("tqdm");
        assertThat(ProgressFormats.reader("none", OptionalLong.empty())).isEmpty();
    }

    @Test
    void noiseIsNotProgress() throws IOException {
        // A download bar, a data-preparation bar and an evaluation bar are not the job's work.
        Path out = dir.resolve("noise");
        Files.writeString(out, "Downloading shards: 100%|##########| 2/2 [00:20<00:00, 10.1s/it]\n"
                + "Map: 100%|##########| 5000/5000 [00:01<00:00, 4012.33 examples/s]\n"
                + "Evaluating: 30%|###       | 30/100 [00:03<00:07, 9.9it/s]\n");
        OutputProgress p = new OutputProgress(ProgressFormats.reader("auto", OptionalLong.empty()).orElseThrow(), List.of(out));
        assertThat(p.poll()).isEqualTo(OptionalDouble.empty());
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void aPatternThatBacktracksWithoutEnd_isGivenUp_notTheSampler() throws IOException {
        // (a+)+b against a line of 'a's backtracks 2^n ways; the match is cut at its read budget and
        // the pattern given up for the attempt, in well under a second.
        Path out = dir.resolve("runaway");
        Files.writeString(out, "a".repeat(4000) + "\n" + "a".repeat(4000) + "\n");
        var reader = (ProgressFormats.PatternReader) ProgressFormats.reader("(a+)+b(?<percent>\\d+)", OptionalLong.empty())
                .orElseThrow();
        OutputProgress p = new OutputProgress(reader, List.of(out));
        long start = System.nanoTime();
        assertThat(p.poll()).isEmpty();
        assertThat(reader.gaveUp()).isTrue();
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(30);
    }

    Path withFirst(String line, String fixture) {
        try {
            Path out = dir.resolve(fixture);
            Files.writeString(out, line + "\n" + Files.readString(fixture(fixture)));
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
