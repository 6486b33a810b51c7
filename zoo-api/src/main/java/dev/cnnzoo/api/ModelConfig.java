package dev.cnnzoo.api;

import dev.cnnzoo.nn.GlobalPool;
import dev.cnnzoo.nn.Head;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Overrides every provider understands, in the spirit of timm's {@code num_classes}, {@code in_chans},
 * {@code global_pool}, {@code features_only}, {@code out_indices} and Keras's {@code include_top},
 * {@code pooling}, {@code input_shape}. Unset values take the model's defaults when the zoo
 * {@linkplain #resolve resolves} the configuration.
 */
public final class ModelConfig {
    private final Integer classes;
    private final Integer inputChannels;
    private final int[] inputSize;
    private final Boolean includeTop;
    private final GlobalPool globalPool;
    private final Double dropout;
    private final Boolean auxiliary;
    private final Boolean featuresOnly;
    private final List<Integer> outIndices;
    private final Long seed;
    private final Map<String, String> options;

    private ModelConfig(Builder b) {
        this.classes = b.classes;
        this.inputChannels = b.inputChannels;
        this.inputSize = b.inputSize == null ? null : b.inputSize.clone();
        this.includeTop = b.includeTop;
        this.globalPool = b.globalPool;
        this.dropout = b.dropout;
        this.auxiliary = b.auxiliary;
        this.featuresOnly = b.featuresOnly;
        this.outIndices = b.outIndices;
        this.seed = b.seed;
        this.options = Map.copyOf(b.options);
    }

    /** Every default. */
    public static ModelConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.classes = classes;
        b.inputChannels = inputChannels;
        b.inputSize = inputSize;
        b.includeTop = includeTop;
        b.globalPool = globalPool;
        b.dropout = dropout;
        b.auxiliary = auxiliary;
        b.featuresOnly = featuresOnly;
        b.outIndices = outIndices;
        b.seed = seed;
        b.options.putAll(options);
        return b;
    }

    /**
     * This configuration with the model's defaults filled in, after checking every value.
     *
     * @throws InvalidConfigException naming the value and why it cannot work
     */
    public ModelConfig resolve(ModelInfo info) {
        Builder b = toBuilder();
        b.classes = classes != null ? classes : info.classes();
        b.inputChannels = inputChannels != null ? inputChannels : info.inputShape()[0];
        b.inputSize = inputSize != null ? inputSize : Arrays.copyOfRange(info.inputShape(), 1, 3);
        b.featuresOnly = featuresOnly != null && featuresOnly;
        if (b.featuresOnly) {
            checkFeaturesOnly();
        } else if (outIndices != null) {
            throw new InvalidConfigException("out indices pick feature stages, which a network outputs only when built for its features only");
        }
        b.includeTop = !b.featuresOnly && (includeTop == null || includeTop);
        // Feature stages are the maps themselves: no pooling (so a resolved configuration resolves again).
        b.globalPool = globalPool != null ? globalPool : b.featuresOnly ? GlobalPool.NONE : GlobalPool.AVG;
        b.seed = seed != null ? seed : 0L;
        if (b.classes < 1) {
            throw new InvalidConfigException("classes must be at least 1, got " + b.classes);
        }
        if (b.inputChannels < 1) {
            throw new InvalidConfigException("input channels must be at least 1, got " + b.inputChannels);
        }
        if (b.inputSize.length != 2 || b.inputSize[0] < 1 || b.inputSize[1] < 1) {
            throw new InvalidConfigException("input size must be two positive values (height, width), got "
                    + Arrays.toString(b.inputSize));
        }
        if (dropout != null && !(dropout >= 0 && dropout < 1)) {
            throw new InvalidConfigException("dropout rate must be in [0, 1), got " + dropout);
        }
        if (auxiliary != null && auxiliary && !info.auxiliary()) {
            throw new InvalidConfigException(info.id() + " has no auxiliary classifiers to turn on");
        }
        b.auxiliary = !b.featuresOnly && (auxiliary != null ? auxiliary : info.auxiliary());
        for (String key : options.keySet()) {
            if (!info.options().containsKey(key)) {
                throw new InvalidConfigException("unknown option '" + key + "' for " + info.id()
                        + (info.options().isEmpty() ? "; it takes none" : "; it understands " + new TreeMap<>(info.options()).keySet()));
            }
        }
        return b.build();
    }

    /** What the network may not be asked besides its feature stages. */
    private void checkFeaturesOnly() {
        if (Boolean.TRUE.equals(includeTop)) {
            throw new InvalidConfigException("a network built for its features only has no classifier (top) to include");
        }
        if (globalPool != null && globalPool != GlobalPool.NONE) {
            throw new InvalidConfigException("global pooling reduces a headless network's last maps; a network built for its features "
                    + "only outputs every stage's maps unpooled");
        }
        if (Boolean.TRUE.equals(auxiliary)) {
            throw new InvalidConfigException("a network built for its features only has no auxiliary classifiers");
        }
        if (outIndices != null) {
            if (outIndices.isEmpty()) {
                throw new InvalidConfigException("out indices name at least one feature stage");
            }
            for (int i = 0; i < outIndices.size(); i++) {
                if (outIndices.get(i) < 1 || (i > 0 && outIndices.get(i) <= outIndices.get(i - 1))) {
                    throw new InvalidConfigException("out indices are stage numbers from 1 (stage1) up, in increasing order; got "
                            + outIndices);
                }
            }
        }
    }

    public int classes() {
        return require(classes, "classes");
    }

    public int inputChannels() {
        return require(inputChannels, "inputChannels");
    }

    /** Height and width. */
    public int[] inputSize() {
        return require(inputSize, "inputSize").clone();
    }

    public boolean includeTop() {
        return require(includeTop, "includeTop");
    }

    public GlobalPool globalPool() {
        return require(globalPool, "globalPool");
    }

    /** Whether auxiliary classifiers are built (as auxiliary outputs). */
    public boolean auxiliary() {
        return require(auxiliary, "auxiliary");
    }

    public long seed() {
        return require(seed, "seed");
    }

    /** Whether the network outputs its feature stages ({@code stage1}...) in place of its head (timm's {@code features_only}). */
    public boolean featuresOnly() {
        return require(featuresOnly, "featuresOnly");
    }

    /**
     * The feature stages kept, numbered from 1 ({@code stage1}), in increasing order; empty for
     * every stage. timm's {@code out_indices} count from 0; these count as the outputs are named.
     */
    public List<Integer> outIndices() {
        return outIndices == null ? List.of() : outIndices;
    }

    /** How the network ends: feature stages, features without the classifier, or logits. */
    public Head head() {
        if (featuresOnly()) {
            return Head.stages();
        }
        return includeTop() ? Head.logits() : Head.features(globalPool());
    }

    /** The dropout rate asked for, else the paper's {@code paperRate}. */
    public double dropoutOr(double paperRate) {
        return dropout != null ? dropout : paperRate;
    }

    /** A family option's value, else {@code fallback}. */
    public String option(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    /**
     * A yes/no family option, off when absent: true/yes/1 or false/no/0; anything else is an error
     * rather than a silent "no".
     */
    public boolean flag(String name) {
        String v = options.getOrDefault(name, "false").toLowerCase(java.util.Locale.ROOT);
        return switch (v) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new InvalidConfigException("option " + name + " is true or false, not '" + options.get(name) + "'");
        };
    }

    public Map<String, String> options() {
        return options;
    }

    /** The overrides that were set, for metadata and checkpoints. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (classes != null) {
            m.put("classes", classes);
        }
        if (inputChannels != null) {
            m.put("inputChannels", inputChannels);
        }
        if (inputSize != null) {
            m.put("inputSize", java.util.List.of(inputSize[0], inputSize[1]));
        }
        if (includeTop != null) {
            m.put("includeTop", includeTop);
        }
        if (globalPool != null) {
            m.put("globalPool", globalPool.name());
        }
        if (dropout != null) {
            m.put("dropout", dropout);
        }
        if (auxiliary != null) {
            m.put("auxiliary", auxiliary);
        }
        if (featuresOnly != null) {
            m.put("featuresOnly", featuresOnly);
        }
        if (outIndices != null) {
            m.put("outIndices", outIndices);
        }
        if (seed != null) {
            m.put("seed", seed);
        }
        if (!options.isEmpty()) {
            m.put("options", new TreeMap<>(options));
        }
        return m;
    }

    /** The configuration {@link #describe()} wrote (from a checkpoint's properties, say). */
    @SuppressWarnings("unchecked")
    public static ModelConfig fromDescription(Map<String, Object> m) {
        Builder b = builder();
        if (m.get("classes") instanceof Number n) {
            b.classes(n.intValue());
        }
        if (m.get("inputChannels") instanceof Number n) {
            b.inputChannels(n.intValue());
        }
        if (m.get("inputSize") instanceof java.util.List<?> l && l.size() == 2) {
            b.inputSize(((Number) l.get(0)).intValue(), ((Number) l.get(1)).intValue());
        }
        if (m.get("includeTop") instanceof Boolean v) {
            b.includeTop(v);
        }
        if (m.get("globalPool") instanceof String v) {
            b.globalPool(GlobalPool.valueOf(v));
        }
        if (m.get("dropout") instanceof Number n) {
            b.dropout(n.doubleValue());
        }
        if (m.get("auxiliary") instanceof Boolean v) {
            b.auxiliary(v);
        }
        if (m.get("featuresOnly") instanceof Boolean v) {
            b.featuresOnly(v);
        }
        if (m.get("outIndices") instanceof List<?> l) {
            b.outIndices(l.stream().mapToInt(v -> ((Number) v).intValue()).toArray());
        }
        if (m.get("seed") instanceof Number n) {
            b.seed(n.longValue());
        }
        if (m.get("options") instanceof Map<?, ?> o) {
            ((Map<String, Object>) o).forEach((k, v) -> b.option(k, String.valueOf(v)));
        }
        return b.build();
    }

    private static <T> T require(T value, String name) {
        if (value == null) {
            throw new IllegalStateException(name + " is not resolved; call resolve(ModelInfo) first");
        }
        return value;
    }

    @Override
    public String toString() {
        return "ModelConfig" + describe();
    }

    public static final class Builder {
        private Integer classes;
        private Integer inputChannels;
        private int[] inputSize;
        private Boolean includeTop;
        private GlobalPool globalPool;
        private Double dropout;
        private Boolean auxiliary;
        private Boolean featuresOnly;
        private List<Integer> outIndices;
        private Long seed;
        private final Map<String, String> options = new LinkedHashMap<>();

        public Builder classes(int n) {
            this.classes = n;
            return this;
        }

        public Builder inputChannels(int n) {
            this.inputChannels = n;
            return this;
        }

        public Builder inputSize(int height, int width) {
            this.inputSize = new int[] {height, width};
            return this;
        }

        /** Channels, height, width at once. */
        public Builder input(int channels, int height, int width) {
            return inputChannels(channels).inputSize(height, width);
        }

        public Builder includeTop(boolean top) {
            this.includeTop = top;
            return this;
        }

        public Builder globalPool(GlobalPool pool) {
            this.globalPool = pool;
            return this;
        }

        public Builder dropout(double rate) {
            this.dropout = rate;
            return this;
        }

        public Builder auxiliary(boolean on) {
            this.auxiliary = on;
            return this;
        }

        /**
         * Output the feature map of every stage, {@code stage1}, {@code stage2}... (one per reduction
         * of the input), in place of the classifier (timm's {@code features_only}).
         */
        public Builder featuresOnly(boolean on) {
            this.featuresOnly = on;
            return this;
        }

        /** Of the feature stages, output only these, numbered from 1 ({@code stage1}), in increasing order. */
        public Builder outIndices(int... stages) {
            this.outIndices = Arrays.stream(stages).boxed().toList();
            return this;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        public Builder option(String name, String value) {
            options.put(name, value);
            return this;
        }

        public ModelConfig build() {
            return new ModelConfig(this);
        }
    }
}
