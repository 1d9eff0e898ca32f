package dev.migm.gpu;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reads and writes NVIDIA mig-parted configuration files, format {@code version: v1}
 * ({@code api/spec/v1/spec.go}): {@code mig-configs} maps a config name to a list of entries, each
 * with {@code devices} ({@code all} or a list of GPU indices), optional {@code device-filter},
 * {@code mig-enabled} and {@code mig-devices} (profile name to count). Unknown fields and other
 * versions are rejected, as mig-parted does.
 *
 * <p>mig-parted configs carry counts, not placements: reading one back places the counts with
 * {@link Layouts#placeCounts}, which picks the placement that leaves the largest free region.
 */
public final class MigParted {
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final Set<String> TOP_FIELDS = Set.of("version", "mig-configs");
    private static final Set<String> ENTRY_FIELDS = Set.of("devices", "device-filter", "mig-enabled", "mig-devices");

    private MigParted() {
    }

    /** One entry of a named config: which devices, and what they hold. */
    public record DeviceEntry(Optional<List<Integer>> devices, List<String> deviceFilter, boolean migEnabled,
                              Map<String, Integer> migDevices) {
        /** Whether the entry applies to GPU index {@code i} ({@code devices: all} applies to every GPU). */
        public boolean appliesTo(int i) {
            return devices.map(d -> d.contains(i)).orElse(true);
        }
    }

    /**
     * Writes one config named {@code configName} for the GPUs given (index = list position): GPUs with
     * the same profile counts share one entry that lists their indices. Never {@code devices: all},
     * which would also reconfigure GPUs of the node that were not given.
     */
    public static String export(String configName, List<Layout> layouts) {
        ObjectNode root = YAML.createObjectNode();
        root.put("version", "v1");
        ArrayNode entries = root.putObject("mig-configs").putArray(configName);
        Map<Map<String, Integer>, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < layouts.size(); i++) {
            groups.computeIfAbsent(counts(layouts.get(i)), c -> new java.util.ArrayList<>()).add(i);
        }
        for (var g : groups.entrySet()) {
            ObjectNode e = entries.addObject();
            ArrayNode devices = e.putArray("devices");
            g.getValue().forEach(devices::add);
            e.put("mig-enabled", true);
            ObjectNode migDevices = e.putObject("mig-devices");
            g.getKey().forEach(migDevices::put);
        }
        return YAML.writeValueAsString(root);
    }

    private static Map<String, Integer> counts(Layout layout) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Instance i : layout.instances().stream().sorted((a, b) -> a.profile().compareTo(b.profile())).toList()) {
            counts.merge(i.profile().toString(), 1, Integer::sum);
        }
        return counts;
    }

    /** Reads a mig-parted v1 file into config name to entries; errors name the source and the field. */
    public static Map<String, List<DeviceEntry>> read(String text, String source) {
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JacksonException e) {
            throw new InvalidInputException(yamlError(e, source));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException(source + ": expected a mapping with 'version' and 'mig-configs'");
        }
        rejectUnknown(root, TOP_FIELDS, source, "top level");
        JsonNode version = root.get("version");
        if (version == null || !version.isString() || !"v1".equals(version.asString())) {
            throw new InvalidInputException(source + ": field 'version': expected v1, got "
                    + (version == null ? "nothing" : TextFiles.quote(version.isString() ? version.asString()
                    : version.toString())));
        }
        JsonNode configs = root.get("mig-configs");
        if (configs == null || !configs.isObject() || configs.isEmpty()) {
            throw new InvalidInputException(source + ": field 'mig-configs': expected a non-empty mapping of config names");
        }
        Map<String, List<DeviceEntry>> result = new LinkedHashMap<>();
        for (var configEntry : configs.properties()) {
            String name = configEntry.getKey();
            JsonNode list = configEntry.getValue();
            String where = "mig-configs." + name;
            if (!list.isArray() || list.isEmpty()) {
                throw new InvalidInputException(source + ": field " + TextFiles.quote(where) + ": expected a non-empty list of entries");
            }
            List<DeviceEntry> entries = new ArrayList<>();
            for (int k = 0; k < list.size(); k++) {
                entries.add(entry(list.get(k), source, where + "[" + k + "]"));
            }
            result.put(name, entries);
        }
        return result;
    }

    /**
     * A YAML syntax error as one line: {@code file:line:column: not valid YAML: what}, without the
     * parser's context lines, carets or class names.
     */
    static String yamlError(JacksonException e, String source) {
        var loc = e.getLocation();
        String place = loc != null && loc.getLineNr() > 0 ? source + ":" + loc.getLineNr() + ":" + loc.getColumnNr()
                : source;
        List<String> parts = new ArrayList<>();
        for (String line : String.valueOf(e.getOriginalMessage()).split("\\R")) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("in reader") || t.startsWith("^") || t.startsWith("at [")) continue;
            parts.add(t.replaceAll(",? *in 'reader', line \\d+, column \\d+:?", ""));
        }
        String what = TextFiles.withoutExceptionNames(String.join("; ", parts));
        if (what.length() > 120) what = what.substring(0, 117) + "...";
        return place + ": not valid YAML: " + (what.isEmpty() ? "cannot parse" : what);
    }

    private static DeviceEntry entry(JsonNode node, String source, String where) {
        if (!node.isObject()) {
            throw new InvalidInputException(source + ": field " + TextFiles.quote(where) + ": expected a mapping");
        }
        rejectUnknown(node, ENTRY_FIELDS, source, where);
        JsonNode devices = node.get("devices");
        Optional<List<Integer>> deviceList;
        if (devices == null) {
            throw new InvalidInputException(source + ": field '" + where + ".devices' is required ('all' or a list)");
        } else if (devices.isString() && devices.asString().equals("all")) {
            deviceList = Optional.empty();
        } else if (devices.isArray()) {
            List<Integer> ids = new ArrayList<>();
            for (JsonNode d : devices) {
                if (!d.isInt() || d.asInt() < 0) {
                    throw new InvalidInputException(source + ": field '" + where + ".devices': expected GPU indices, got "
                            + TextFiles.quote(d.toString()));
                }
                ids.add(d.asInt());
            }
            deviceList = Optional.of(List.copyOf(ids));
        } else {
            throw new InvalidInputException(source + ": field '" + where + ".devices': expected 'all' or a list, got "
                    + TextFiles.quote(devices.toString()));
        }
        List<String> filter = new ArrayList<>();
        JsonNode f = node.get("device-filter");
        if (f != null) {
            if (f.isString()) {
                filter.add(f.asString());
            } else if (f.isArray()) {
                for (JsonNode x : f) {
                    if (!x.isString()) {
                        throw new InvalidInputException(source + ": field '" + where + ".device-filter': expected PCI ids"
                                + " as strings, got " + TextFiles.quote(x.toString()));
                    }
                    filter.add(x.asString());
                }
            } else {
                throw new InvalidInputException(source + ": field '" + where + ".device-filter': expected a string or list");
            }
        }
        JsonNode enabled = node.get("mig-enabled");
        if (enabled == null || !enabled.isBoolean()) {
            throw new InvalidInputException(source + ": field '" + where + ".mig-enabled': expected true or false");
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        JsonNode md = node.get("mig-devices");
        if (md != null) {
            if (!md.isObject()) {
                throw new InvalidInputException(source + ": field '" + where + ".mig-devices': expected profile: count");
            }
            for (var e : md.properties()) {
                if (!e.getValue().isInt() || e.getValue().asInt() < 0) {
                    throw new InvalidInputException(source + ": field '" + where + ".mig-devices." + e.getKey()
                            + "': expected a count, got " + TextFiles.quote(e.getValue().toString()));
                }
                try {
                    ProfileName.parse(e.getKey());
                } catch (InvalidInputException bad) {
                    throw new InvalidInputException(source + ": field '" + where + ".mig-devices': " + bad.getMessage());
                }
                counts.put(e.getKey(), e.getValue().asInt());
            }
        }
        if (!enabled.asBoolean() && !counts.isEmpty()) {
            throw new InvalidInputException(source + ": field " + TextFiles.quote(where) + ": mig-devices given with mig-enabled: false");
        }
        return new DeviceEntry(deviceList, List.copyOf(filter), enabled.asBoolean(), counts);
    }

    private static void rejectUnknown(JsonNode node, Set<String> known, String source, String where) {
        for (Iterator<String> it = node.propertyNames().iterator(); it.hasNext(); ) {
            String name = it.next();
            if (!known.contains(name)) {
                throw new InvalidInputException(source + ": " + where + ": unexpected field '" + name
                        + "' (expected one of " + known + ")");
            }
        }
    }

    /**
     * The layout a config gives GPU {@code index} of the model: the first entry that applies, its
     * counts placed legally. A GPU no entry names gets the empty layout.
     */
    public static Layout layoutFor(List<DeviceEntry> entries, int index, GpuModel gpu, String source) {
        for (DeviceEntry e : entries) {
            if (!e.appliesTo(index)) {
                continue;
            }
            Map<Profile, Integer> counts = new LinkedHashMap<>();
            for (var c : e.migDevices().entrySet()) {
                if (c.getValue() > 0) {
                    try {
                        counts.put(gpu.profile(c.getKey()), c.getValue());
                    } catch (InvalidInputException bad) {
                        throw new InvalidInputException(source + ": GPU " + index + ", field 'mig-devices': "
                                + bad.getMessage());
                    }
                }
            }
            return Layouts.placeCounts(gpu, counts).orElseThrow(() -> new InvalidInputException(source + ": GPU "
                    + index + " (" + gpu.name() + "): no legal layout holds " + e.migDevices()));
        }
        return Layout.empty(gpu);
    }
}
