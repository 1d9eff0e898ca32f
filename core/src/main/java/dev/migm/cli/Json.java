package dev.migm.cli;

import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Profile;
import dev.migm.report.Report;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON documents of the CLI: every {@code --json} output is one object whose first key is
 * {@code schema}, {@code migm.VERB/v1}; keys are snake_case, in a fixed order; profiles are their
 * names as strings; undefined values are {@code null}; numbers carry fixed decimals. A new key may
 * be added within v1; a key is never renamed or removed without a new version. Shapes: docs/json.md.
 */
final class Json {
    static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private Json() {
    }

    /** A document of {@code verb}, ready for its fields. */
    static Map<String, Object> doc(String verb) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schema", "migm." + verb + "/v1");
        return m;
    }

    static String write(Object value) {
        return Report.json(value).stripTrailing();
    }

    static BigDecimal decimal(double v, int decimals) {
        return BigDecimal.valueOf(v).setScale(decimals, RoundingMode.HALF_EVEN);
    }

    static Map<String, Object> instance(Instance i) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("profile", i.profile().toString());
        m.put("start", i.start());
        m.put("size", i.profile().memorySlices());
        return m;
    }

    static List<Map<String, Object>> layout(Layout layout) {
        return layout.instances().stream().map(Json::instance).toList();
    }

    static Map<String, Object> profile(Profile p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name().toString());
        m.put("id", p.id());
        m.put("nvml_enum", p.nvmlEnum() < 0 ? null : p.nvmlEnum());
        m.put("compute_slices", p.computeSlices());
        m.put("memory_slices", p.memorySlices());
        m.put("memory_mib", p.memoryMib());
        m.put("sms", p.sms());
        m.put("ce", p.engines().copy());
        m.put("dec", p.engines().decoders());
        m.put("enc", p.engines().encoders());
        m.put("jpeg", p.engines().jpeg());
        m.put("ofa", p.engines().ofa());
        m.put("max_count", p.maxCount());
        m.put("starts", p.starts());
        return m;
    }

    static Map<String, Object> gpu(GpuModel g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", g.name());
        m.put("aliases", g.aliases());
        m.put("pci_device_ids", g.pciDeviceIds());
        m.put("memory_slices", g.memorySlices());
        m.put("compute_slices", g.computeSlices());
        m.put("sms", g.sms());
        m.put("memory_mib", g.memoryMib());
        m.put("idle_w", decimal(g.idleWatts(), 1));
        m.put("max_w", decimal(g.maxWatts(), 1));
        m.put("source", g.source());
        return m;
    }
}
