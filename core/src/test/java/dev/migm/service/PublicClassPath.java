package dev.migm.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The test JVM's class path copied where every user can read it (a build under /root is not), for
 * tests that run migm as another user ({@code nobody}).
 */
final class PublicClassPath {
    private PublicClassPath() {
    }

    /**
     * Copies every class path entry under {@code dir} (made world-readable), directories of classes
     * as jars (as migm is installed, and as the JVM's class-data archive wants it); the copy's class
     * path.
     */
    static String copyTo(Path dir) throws IOException {
        List<String> entries = new ArrayList<>();
        int n = 0;
        Files.createDirectories(dir);
        for (String entry : System.getProperty("java.class.path").split(":")) {
            Path from = Path.of(entry);
            if (!Files.exists(from)) continue;
            if (Files.isDirectory(from)) {
                Path to = dir.resolve(n++ + "-" + from.getFileName() + ".jar");
                jar(from, to);
                entries.add(to.toString());
                continue;
            }
            Path to = dir.resolve(n++ + "-" + from.getFileName());
            copyTree(from, to);
            entries.add(to.toString());
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return String.join(":", entries);
    }

    private static void jar(Path from, Path to) throws IOException {
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(to)); Stream<Path> all = Files.walk(from)) {
            for (Path p : all.sorted().toList()) {
                if (p.equals(from)) continue;
                String name = from.relativize(p).toString().replace('\\', '/') + (Files.isDirectory(p) ? "/" : "");
                out.putNextEntry(new java.util.jar.JarEntry(name));
                if (!Files.isDirectory(p)) Files.copy(p, out);
                out.closeEntry();
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
