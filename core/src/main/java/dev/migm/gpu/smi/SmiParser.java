package dev.migm.gpu.smi;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.gpu.Placement;
import dev.migm.gpu.ProfileName;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the console output of {@code nvidia-smi mig -lgip}, {@code -lgipp} and {@code -lgi}.
 * Real output differs between drivers (column widths, the set of profiles, trailing spaces, an
 * output may hold several GPUs), so rows are read by their tokens, not by column positions. A line
 * that is neither a table border, a header nor a data row is an error naming its line number.
 */
public final class SmiParser {
    private static final Pattern LGIPP = Pattern.compile(
            "GPU\\s+(\\d{1,6})\\s+Profile\\s+ID\\s+(\\d{1,6})\\s+Placements?\\s*:\\s*\\{([\\d,\\s]*)}\\s*:\\s*(\\d{1,6})");
    /** nvidia-smi's numbers here are small (IDs, counts, slices, SMs): more than six digits is not a table. */
    private static final Pattern INT = Pattern.compile("\\d{1,6}");

    /** The most memory a profile row may say: 1 PiB, thousands of times today's largest GPU. */
    static final double MAX_PROFILE_GIB = 1 << 20;

    private SmiParser() {
    }

    /** One profile of {@code -lgip}: two table rows (SM DEC ENC, then CE JPEG OFA). */
    public record ProfileRow(int gpu, ProfileName name, int id, int free, int total, double memoryGib, boolean p2p,
                             int sms, int decoders, int encoders, int copyEngines, int jpeg, int ofa, int line) {
        /** Memory in MiB as nvidia-smi rounds it (GiB with 2 decimals, so within about 5 MiB). */
        public long memoryMib() {
            return Math.round(memoryGib * 1024);
        }
    }

    /** One line of {@code -lgipp}: a profile's legal starts and its placement size. */
    public record PlacementRow(int gpu, int profileId, List<Integer> starts, int size, int line) {
        public PlacementRow {
            starts = List.copyOf(starts);
        }
    }

    /** One GPU instance of {@code -lgi}. */
    public record InstanceRow(int gpu, ProfileName name, int profileId, int instanceId, Placement placement, int line) {
    }

    public static List<ProfileRow> parseLgip(String text, String source) {
        List<ProfileRow> rows = new ArrayList<>();
        String[] lines = text.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String[] tokens = cells(lines[i]);
            if (tokens == null || isHeader(tokens, "profiles:")) {
                continue;
            }
            int lineNo = i + 1;
            if (tokens.length >= 10 && tokens[1].equals("MIG")) {
                String[] more = i + 1 < lines.length ? cells(lines[i + 1]) : null;
                if (more == null || more.length < 3 || !allInts(more)) {
                    throw new InvalidInputException(source + ":" + (lineNo + 1)
                            + ": expected the CE JPEG OFA row under profile " + tokens[2]);
                }
                rows.add(profileRow(tokens, more, source, lineNo));
                i++;
            } else {
                throw new InvalidInputException(source + ":" + lineNo + ": not an nvidia-smi -lgip row: "
                        + TextFiles.quote(lines[i].strip()));
            }
        }
        if (rows.isEmpty()) {
            throw new InvalidInputException(source + ": no GPU instance profiles found (expected nvidia-smi mig -lgip output)");
        }
        return rows;
    }

    public static List<PlacementRow> parseLgipp(String text, String source) {
        List<PlacementRow> rows = new ArrayList<>();
        String[] lines = text.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            Matcher m = LGIPP.matcher(line);
            if (!m.matches()) {
                throw new InvalidInputException(source + ":" + (i + 1)
                        + ": expected 'GPU <n> Profile ID <id> Placements: {<starts>}:<size>', got "
                        + TextFiles.quote(line));
            }
            List<Integer> starts = new ArrayList<>();
            for (String s : m.group(3).split(",")) {
                if (!s.isBlank()) {
                    int start = parseInt(s.strip(), source, i + 1, "placement start");
                    if (!starts.isEmpty() && start <= starts.getLast()) {
                        throw new InvalidInputException(source + ":" + (i + 1) + ": placement starts must ascend, got "
                                + start + " after " + starts.getLast());
                    }
                    starts.add(start);
                }
            }
            if (starts.isEmpty()) {
                throw new InvalidInputException(source + ":" + (i + 1) + ": empty placement list");
            }
            if (Integer.parseInt(m.group(4)) < 1 || starts.getLast() + Integer.parseInt(m.group(4)) > 64) {
                throw new InvalidInputException(source + ":" + (i + 1) + ": placement size " + m.group(4)
                        + " from start " + starts.getLast() + " leaves the GPU (at most 64 memory slices)");
            }
            rows.add(new PlacementRow(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), starts,
                    Integer.parseInt(m.group(4)), i + 1));
        }
        if (rows.isEmpty()) {
            throw new InvalidInputException(source + ": no placements found (expected nvidia-smi mig -lgipp output)");
        }
        return rows;
    }

    public static List<InstanceRow> parseLgi(String text, String source) {
        List<InstanceRow> rows = new ArrayList<>();
        String[] lines = text.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String[] tokens = cells(lines[i]);
            if (tokens == null || isHeader(tokens, "instances:")) {
                continue;
            }
            int lineNo = i + 1;
            if (tokens.length == 6 && tokens[1].equals("MIG") && tokens[5].matches("\\d+:\\d+")) {
                String[] ss = tokens[5].split(":");
                try {
                    rows.add(new InstanceRow(parseInt(tokens[0], source, lineNo, "GPU"), ProfileName.parse(tokens[2]),
                            parseInt(tokens[3], source, lineNo, "profile ID"),
                            parseInt(tokens[4], source, lineNo, "instance ID"),
                            new Placement(parseInt(ss[0], source, lineNo, "placement start"),
                                    parseInt(ss[1], source, lineNo, "placement size")), lineNo));
                } catch (InvalidInputException | IllegalArgumentException e) {
                    throw new InvalidInputException(source + ":" + lineNo + ": " + e.getMessage(), e);
                }
            } else if (tokens.length >= 1 && tokens[0].equalsIgnoreCase("No")) {
                continue; // "No GPU instances found"
            } else {
                throw new InvalidInputException(source + ":" + lineNo + ": not an nvidia-smi -lgi row: "
                        + TextFiles.quote(lines[i].strip()));
            }
        }
        return rows;
    }

    private static ProfileRow profileRow(String[] t, String[] more, String source, int line) {
        try {
            ProfileName name = ProfileName.parse(t[2]);
            String[] freeTotal = t[4].split("/");
            if (freeTotal.length != 2) {
                throw new InvalidInputException("expected Free/Total instances, got " + TextFiles.quote(t[4]));
            }
            double gib;
            try {
                gib = Double.parseDouble(t[5]);
            } catch (NumberFormatException e) {
                gib = Double.NaN;
            }
            // A profile's memory in GiB, as nvidia-smi prints it; a value no GPU could have (and that
            // would not even fit a count of MiB) is refused, not clamped.
            if (!(gib >= 0 && gib <= MAX_PROFILE_GIB)) {
                throw new InvalidInputException("expected memory in GiB in [0, " + (long) MAX_PROFILE_GIB + "], got "
                        + TextFiles.quote(t[5]));
            }
            boolean p2p = switch (t[6]) {
                case "Yes" -> true;
                case "No" -> false;
                default -> throw new InvalidInputException("expected P2P Yes or No, got " + TextFiles.quote(t[6]));
            };
            return new ProfileRow(parseInt(t[0], source, line, "GPU"), name, parseInt(t[3], source, line, "ID"),
                    parseInt(freeTotal[0], source, line, "free instances"),
                    parseInt(freeTotal[1], source, line, "total instances"), gib, p2p,
                    parseInt(t[7], source, line, "SM"), parseInt(t[8], source, line, "DEC"),
                    parseInt(t[9], source, line, "ENC"), Integer.parseInt(more[0]), Integer.parseInt(more[1]),
                    Integer.parseInt(more[2]), line);
        } catch (InvalidInputException e) {
            if (e.getMessage().startsWith(source + ":")) {
                throw e;
            }
            throw new InvalidInputException(source + ":" + line + ": " + e.getMessage(), e);
        }
    }

    private static int parseInt(String token, String source, int line, String column) {
        if (!INT.matcher(token).matches()) {
            throw new InvalidInputException(source + ":" + line + ": column " + column + ": expected a number, got "
                    + TextFiles.quote(token));
        }
        return Integer.parseInt(token);
    }

    /** The whitespace-separated cells of a table row, or null for borders and blank lines. */
    private static String[] cells(String line) {
        String s = line.strip();
        if (s.isEmpty() || s.startsWith("+") || s.startsWith("|=") || s.startsWith("|-")) {
            return null;
        }
        if (!s.startsWith("|")) {
            return new String[] {s};
        }
        s = s.substring(1);
        if (s.endsWith("|")) {
            s = s.substring(0, s.length() - 1);
        }
        s = s.strip();
        return s.isEmpty() ? null : s.split("\\s+");
    }

    /** Header rows: the table title and the column names, recognised by their words. */
    private static boolean isHeader(String[] tokens, String titleWord) {
        if (tokens.length >= 2 && tokens[0].equals("GPU") && tokens[tokens.length - 1].equals(titleWord)) {
            return true;
        }
        if (tokens[0].equals("GPU") && tokens.length > 1 && tokens[1].equals("Name")) {
            return true;
        }
        return String.join(" ", tokens).matches("(ID|Free/Total|CE|Start:Size)\\b.*")
                && !tokens[0].matches("\\d+");
    }

    private static boolean allInts(String[] tokens) {
        for (String t : tokens) {
            if (!INT.matcher(t).matches()) {
                return false;
            }
        }
        return true;
    }
}
