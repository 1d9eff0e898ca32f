package dev.migm.cli;

import dev.migm.gpu.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading input files with errors that name the file. */
final class Files2 {
    private Files2() {
    }

    static String read(Path path) {
        try {
            return Files.readString(path);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidInputException(path + ": no such file");
        } catch (IOException e) {
            throw new InvalidInputException(path + ": cannot read: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        }
    }
}
