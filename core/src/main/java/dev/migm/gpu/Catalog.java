package dev.migm.gpu;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The GPU models migm knows, read from the versioned resource {@code catalog-v1.yaml} (every number
 * cites its source there). Lookup accepts the usual spellings of a GPU's name: case is ignored, a
 * leading {@code NVIDIA } is dropped, spaces and underscores count as dashes, so
 * {@code A100-40GB}, {@code a100-sxm4-40gb} and {@code NVIDIA A100-SXM4-40GB} all name one model.
 */
public final class Catalog {
    /** The only catalog format version this build reads. */
    public static final String VERSION = "v1";
    private static final String RESOURCE = "catalog-v1.yaml";

    private final List<GpuModel> models;
    private final Map<String, GpuModel> byKey = new LinkedHashMap<>();

    private Catalog(List<GpuModel> models) {
        this.models = List.copyOf(models);
        for (GpuModel m : models) {
            byKey.put(key(m.name()), m);
            for (String alias : m.aliases()) {
                GpuModel previous = byKey.putIfAbsent(key(alias), m);
                if (previous != null && previous != m) {
                    throw new IllegalStateException("alias " + alias + " names both " + previous + " and " + m);
                }
            }
        }
    }

    private static final class Builtin {
        static final Catalog INSTANCE;

        static {
            try (InputStream in = Catalog.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("missing resource " + RESOURCE);
                }
                INSTANCE = read(in, RESOURCE);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + RESOURCE, e);
            }
        }
    }

    /** The catalog bundled with migm. */
    public static Catalog builtin() {
        return Builtin.INSTANCE;
    }

    /** A catalog of the given models (e.g. the built-in ones plus imported ones). */
    public static Catalog of(List<GpuModel> models) {
        return new Catalog(models);
    }

    /** Reads a catalog in format v1; errors name the source and the field. */
    public static Catalog read(InputStream in, String sourceName) {
        YAMLMapper mapper = YAMLMapper.builder().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES).build();
        CatalogFile file;
        try {
            file = mapper.readValue(in, CatalogFile.class);
        } catch (JacksonException e) {
            throw new InvalidInputException(sourceName + ": " + e.getOriginalMessage());
        }
        if (!VERSION.equals(file.version())) {
            throw new InvalidInputException(sourceName + ": unsupported catalog version '" + file.version()
                    + "' (this build reads " + VERSION + ")");
        }
        List<GpuModel> models = new ArrayList<>();
        for (GpuEntry g : file.gpus()) {
            try {
                models.add(g.toModel());
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(sourceName + ": GPU " + g.name() + ": " + e.getMessage(), e);
            }
        }
        return new Catalog(models);
    }

    public List<GpuModel> models() {
        return models;
    }

    /** The model a name denotes, if any. */
    public Optional<GpuModel> find(String name) {
        return Optional.ofNullable(byKey.get(key(name)));
    }

    /** The model a name denotes, or an error listing the known names. */
    public GpuModel get(String name) {
        return find(name).orElseThrow(() -> new InvalidInputException("unknown GPU " + TextFiles.quote(String.valueOf(name)) + " (known: "
                + String.join(", ", models.stream().map(m -> m.name() + (m.aliases().isEmpty() ? "" : " (" + m.aliases().getFirst() + ")")).toList())
                + ")"));
    }

    static String key(String name) {
        String k = name.trim().toUpperCase(Locale.ROOT).replaceAll("[\\s_]+", "-");
        if (k.startsWith("NVIDIA-")) {
            k = k.substring("NVIDIA-".length());
        }
        return k;
    }

    private record CatalogFile(String version, List<GpuEntry> gpus) {
    }

    private record GpuEntry(String name, List<String> aliases,
                            @JsonProperty("pci-device-ids") List<String> pciDeviceIds,
                            @JsonProperty("memory-slices") int memorySlices,
                            @JsonProperty("compute-slices") int computeSlices, int sms,
                            @JsonProperty("memory-mib") long memoryMib,
                            @JsonProperty("idle-w") double idleW, @JsonProperty("max-w") double maxW,
                            String source, List<ProfileEntry> profiles) {
        GpuModel toModel() {
            List<Profile> ps = profiles.stream().map(ProfileEntry::toProfile).toList();
            return new GpuModel(name, aliases == null ? List.of() : aliases,
                    pciDeviceIds == null ? List.of() : pciDeviceIds, memorySlices, computeSlices, sms, memoryMib,
                    idleW, maxW, source == null ? "" : source.strip(), ps);
        }
    }

    private record ProfileEntry(String name, int id, @JsonProperty("nvml-enum") int nvmlEnum,
                                @JsonProperty("compute-slices") int computeSlices,
                                @JsonProperty("memory-slices") int memorySlices,
                                @JsonProperty("memory-mib") long memoryMib, int sms, int ce, int dec, int enc,
                                int jpeg, int ofa, @JsonProperty("max-count") int maxCount, List<Integer> starts) {
        Profile toProfile() {
            ProfileName pn = ProfileName.parse(name);
            if (pn.computeSlices() != computeSlices) {
                throw new IllegalArgumentException("profile " + name + ": name says " + pn.computeSlices()
                        + " compute slices, field says " + computeSlices);
            }
            return new Profile(pn, id, nvmlEnum, computeSlices, memorySlices, memoryMib, sms,
                    new Profile.Engines(ce, dec, enc, jpeg, ofa), maxCount, starts);
        }
    }
}
