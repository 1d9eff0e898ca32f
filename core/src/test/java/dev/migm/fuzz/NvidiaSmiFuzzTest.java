package dev.migm.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.migm.gpu.Catalog;
import dev.migm.gpu.smi.SmiImport;
import dev.migm.gpu.smi.SmiParser;
import dev.migm.io.TextFiles;
import java.util.List;

/**
 * Coverage-guided: {@code nvidia-smi mig -lgip}, {@code -lgipp} and {@code -lgi} text, each table
 * read by its parser and imported (profiles matched to the catalog, a live layout read back).
 */
final class NvidiaSmiFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void nvidiaSmiTables(byte[] bytes) {
        String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        Catalog catalog = Catalog.builtin();
        Contract.acceptsOrRefusesClearly("lgip", text, () -> SmiImport.models(SmiParser.parseLgip(TextFiles.decode(bytes,
                "smi.txt"), "smi.txt"), List.of(), catalog, null), m -> m.startsWith("smi.txt") || m.startsWith("GPU "));
        Contract.acceptsOrRefusesClearly("lgipp", text, () -> SmiParser.parseLgipp(TextFiles.decode(bytes, "smi.txt"), "smi.txt"),
                Contract.startsWith("smi.txt"));
        Contract.acceptsOrRefusesClearly("lgi", text, () -> SmiImport.layout(SmiParser.parseLgi(TextFiles.decode(bytes, "smi.txt"),
                "smi.txt"), 0, catalog.get("A100-40GB"), "smi.txt"), Contract.startsWith("smi.txt"));
    }
}
