package dev.migm.store;

import dev.migm.engine.EngineRecord;
import dev.migm.engine.Outcome;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The one codec of the journal's records: each {@link EngineRecord} as versioned, typed JSON, what it
 * holds rather than how Java prints it, and back. A record is an object {@code {"v": 1, "type":
 * "Queued", "at_s": ..., ...}} whose fields are the record's components in {@code snake_case}; the
 * values inside follow the same rule (a {@link dev.migm.engine.JobSpec}, a
 * {@link dev.migm.engine.Slot}, an {@link Outcome} with its {@code "kind"}), with these forms:
 * an absent optional is {@code null}; a {@link Layout} is {@code {"gpu_model": NAME, "instances":
 * "3g.20gb@0,1g.5gb@6"}}; an {@link Instance} is its text, {@code "1g.5gb@6"}, read back on the GPU
 * of the record or slot that holds it (its {@code gpu}); a number that is not finite is the string
 * {@code "NaN"}, {@code "Infinity"} or {@code "-Infinity"}. Reading it back needs the node's GPU
 * models (by index, and by name for layouts).
 *
 * <p>Version 1 is this form. A reader refuses a version it does not know with one line; a new field
 * read from an older record is absent (null), never guessed.
 */
public final class RecordCodec {
    /** The version this migm writes. */
    public static final int VERSION = 1;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private RecordCodec() {
    }

    /** The record as JSON text. */
    public static String encode(EngineRecord record) {
        ObjectNode o = NODES.objectNode();
        o.put("v", VERSION);
        o.put("type", record.getClass().getSimpleName());
        fields((Record) record, o);
        return JSON.writeValueAsString(o);
    }

    /** The record's JSON tree (for reading a field). */
    public static JsonNode tree(String json) {
        return JSON.readTree(json);
    }

    /**
     * The record of JSON text written by {@link #encode}, with the node's GPU models by name
     * ({@code models}); refused with one line for a version or type it does not know.
     */
    public static EngineRecord decode(String json, List<GpuModel> node) {
        Function<String, GpuModel> byName = name -> node.stream().filter(m -> m.name().equals(name)).findFirst()
                .orElseGet(() -> dev.migm.gpu.Catalog.builtin().get(name));
        return decode(json, new Models(node, byName));
    }

    /** The node's GPU models: by index (an instance is read on its record's GPU) and by name (a layout's). */
    private record Models(List<GpuModel> byIndex, Function<String, GpuModel> byName) {
    }

    private static EngineRecord decode(String json, Models models) {
        JsonNode o = JSON.readTree(json);
        int v = o.path("v").asInt(-1);
        if (v != VERSION) throw new IllegalArgumentException("journal record of version " + v + " (this migm reads "
                + VERSION + ")");
        String type = o.path("type").asString("");
        for (Class<?> c : EngineRecord.class.getPermittedSubclasses()) {
            if (c.getSimpleName().equals(type)) return (EngineRecord) fromRecord(c, o, models);
        }
        throw new IllegalArgumentException("journal record of an unknown type " + type);
    }

    // ---------------------------------------------------------------- writing

    private static void fields(Record r, ObjectNode o) {
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            try {
                o.set(snake(c.getName()), value(c.getAccessor().invoke(r)));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static JsonNode value(Object v) {
        return switch (v) {
            case null -> NODES.nullNode();
            case String s -> NODES.stringNode(s);
            case Boolean b -> NODES.booleanNode(b);
            case Integer i -> NODES.numberNode(i);
            case Long l -> NODES.numberNode(l);
            case Double d -> Double.isFinite(d) ? NODES.numberNode(d) : NODES.stringNode(d.toString());
            case Enum<?> e -> NODES.stringNode(e.name());
            case Optional<?> opt -> opt.map(RecordCodec::value).orElse(NODES.nullNode());
            case OptionalLong opt -> opt.isPresent() ? NODES.numberNode(opt.getAsLong()) : NODES.nullNode();
            case OptionalInt opt -> opt.isPresent() ? NODES.numberNode(opt.getAsInt()) : NODES.nullNode();
            case OptionalDouble opt -> opt.isPresent() ? value(opt.getAsDouble()) : NODES.nullNode();
            case Layout l -> {
                ObjectNode o = NODES.objectNode();
                o.put("gpu_model", l.gpu().name());
                o.put("instances", l.toString());
                yield o;
            }
            case Instance i -> NODES.stringNode(i.toString());
            case List<?> list -> {
                ArrayNode a = NODES.arrayNode();
                list.forEach(x -> a.add(value(x)));
                yield a;
            }
            case Map<?, ?> map -> {
                ObjectNode o = NODES.objectNode();
                map.forEach((k, x) -> o.set(String.valueOf(k), value(x)));
                yield o;
            }
            case Outcome out -> {
                ObjectNode o = NODES.objectNode();
                o.put("kind", out.getClass().getSimpleName());
                fields((Record) out, o);
                yield o;
            }
            case Record rec -> {
                ObjectNode o = NODES.objectNode();
                fields(rec, o);
                yield o;
            }
            default -> throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
        };
    }

    private static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    // ---------------------------------------------------------------- reading

    private static Object fromRecord(Class<?> type, JsonNode o, Models models) {
        return fromRecord(type, o, models, -1);
    }

    /** A record from its object; {@code gpu} is the GPU an instance inside is on (its own {@code gpu} if it has one). */
    private static Object fromRecord(Class<?> type, JsonNode o, Models models, int gpu) {
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        int here = o.has("gpu") && o.get("gpu").isInt() ? o.get("gpu").asInt() : gpu;
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            args[i] = read(components[i].getGenericType(), o.get(snake(components[i].getName())), models, here);
        }
        try {
            Constructor<?> canonical = type.getDeclaredConstructor(types);
            canonical.setAccessible(true);
            return canonical.newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("journal record " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static Object read(Type type, JsonNode n, Models models, int gpu) {
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        boolean absent = n == null || n.isNull();
        if (raw == Optional.class) {
            return absent ? Optional.empty() : Optional.of(read(arg(type, 0), n, models, gpu));
        }
        if (raw == OptionalLong.class) return absent ? OptionalLong.empty() : OptionalLong.of(n.asLong());
        if (raw == OptionalInt.class) return absent ? OptionalInt.empty() : OptionalInt.of(n.asInt());
        if (raw == OptionalDouble.class) return absent ? OptionalDouble.empty() : OptionalDouble.of(number(n));
        if (raw == double.class || raw == Double.class) return absent ? Double.NaN : number(n);
        if (raw == long.class || raw == Long.class) return absent ? 0L : n.asLong();
        if (raw == int.class || raw == Integer.class) return absent ? 0 : n.asInt();
        if (raw == boolean.class || raw == Boolean.class) return !absent && n.asBoolean();
        if (absent) return null;
        if (raw == String.class) return n.asString();
        if (raw.isEnum()) return enumValue(raw, n.asString());
        if (raw == Layout.class) return Layout.parse(models.byName().apply(n.path("gpu_model").asString()),
                n.path("instances").asString());
        if (raw == Instance.class) {
            if (gpu < 0 || gpu >= models.byIndex().size()) {
                throw new IllegalArgumentException("journal record: an instance on gpu" + gpu + ", which this node lacks");
            }
            return Layout.parse(models.byIndex().get(gpu), n.asString()).instances().getFirst();
        }
        if (raw == List.class) {
            List<Object> out = new ArrayList<>();
            for (JsonNode x : n) out.add(read(arg(type, 0), x, models, gpu));
            return out;
        }
        if (raw == Map.class) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (var e : n.properties()) out.put(e.getKey(), read(arg(type, 1), e.getValue(), models, gpu));
            return out;
        }
        if (raw == Outcome.class) {
            String kind = n.path("kind").asString("");
            for (Class<?> c : Outcome.class.getPermittedSubclasses()) {
                if (c.getSimpleName().equals(kind)) return fromRecord(c, n, models, gpu);
            }
            throw new IllegalArgumentException("journal record: an outcome of an unknown kind " + kind);
        }
        if (raw.isRecord()) return fromRecord(raw, n, models, gpu);
        throw new IllegalArgumentException("journal record: no reader for " + raw.getName());
    }

    private static double number(JsonNode n) {
        return n.isString() ? Double.parseDouble(n.asString()) : n.asDouble();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumValue(Class<?> type, String name) {
        return Enum.valueOf((Class<Enum>) type, name);
    }

    private static Type arg(Type type, int i) {
        return ((ParameterizedType) type).getActualTypeArguments()[i];
    }
}
