package dev.migm.cli;

import java.nio.file.Path;

/** Reading input files with errors that name the file. */
final class Files2 {
    private Files2() {
    }

    static String read(Path path) {
        return dev.migm.io.TextFiles.read(path);
    }
}
