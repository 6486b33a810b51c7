package dev.cnnzoo.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the zoo knows about a model id before building it, written with named fields:
 *
 * <pre>{@code
 * ModelInfo.builder("resnet50").family("resnet").description("ResNet-50: ...").paper(HE_2015)
 *         .input(3, 224, 224).classes(1000).preprocessing(Preprocessing.imagenet(256, 224))
 *         .reported(new ReportedError(22.85, 6.71, "ILSVRC-2012 val, 10-crop"))
 *         .option("stride-in", "where a bottleneck unit downsamples: ...")
 *         .counterpart(Counterpart.torchvision("resnet50"))
 *         .build();
 * }</pre>
 *
 * Parameter counts and MACs are not written here: they are computed from the graph
 * ({@link ModelZoo#describe}).
 */
public final class ModelInfo {
    private final String id;
    private final String family;
    private final String description;
    private final Paper paper;
    private final int[] inputShape;
    private final int classes;
    private final Preprocessing preprocessing;
    private final ReportedError reported;
    private final boolean auxiliary;
    private final Map<String, String> options;
    private final List<Counterpart> counterparts;

    private ModelInfo(Builder b) {
        id = b.id;
        family = require(b.family, "family");
        description = require(b.description, "description");
        paper = require(b.paper, "paper");
        inputShape = require(b.inputShape, "input").clone();
        if (b.classes == null) {
            throw new IllegalStateException("model " + id + " has no classes");
        }
        classes = b.classes;
        preprocessing = require(b.preprocessing, "preprocessing");
        reported = b.reported;
        auxiliary = b.auxiliary;
        options = Collections.unmodifiableMap(new LinkedHashMap<>(b.options));
        counterparts = List.copyOf(b.counterparts);
    }

    private <T> T require(T value, String field) {
        if (value == null) {
            throw new IllegalStateException("model " + id + " has no " + field);
        }
        return value;
    }

    /** A model named {@code id} (lower case with dashes: {@code resnet50}, {@code vgg16-bn}). */
    public static Builder builder(String id) {
        return new Builder(id);
    }

    public String id() {
        return id;
    }

    /** The family {@code zoo list FAMILY} shows together, e.g. {@code resnet}. */
    public String family() {
        return family;
    }

    /** One line on what the network is, shown by {@code zoo info}. */
    public String description() {
        return description;
    }

    public Paper paper() {
        return paper;
    }

    /** Default channels, height, width. */
    public int[] inputShape() {
        return inputShape.clone();
    }

    /** Default number of classes. */
    public int classes() {
        return classes;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** The paper's error rates, or null. */
    public ReportedError reported() {
        return reported;
    }

    /** Whether the network has auxiliary classifiers (GoogLeNet, Inception v3). */
    public boolean auxiliary() {
        return auxiliary;
    }

    /** Family-specific options this id understands, with a line on each, in the order written. */
    public Map<String, String> options() {
        return options;
    }

    /** The same network in other libraries (torchvision, timm, Keras), at most one per library. */
    public List<Counterpart> counterparts() {
        return counterparts;
    }

    /** The counterpart in {@code library}, if the network has one there. */
    public Optional<Counterpart> counterpart(Counterpart.Library library) {
        return counterparts.stream().filter(c -> c.library() == library).findFirst();
    }

    /** "3×224×224". */
    public String inputDescription() {
        return inputShape[0] + "×" + inputShape[1] + "×" + inputShape[2];
    }

    /**
     * Everything above as plain maps, lists and values (what {@code zoo list --json} and
     * {@code zoo info --json} print): {@code id}, {@code family}, {@code description}, {@code paper},
     * {@code input} ([C, H, W]), {@code classes}, {@code preprocessing}, {@code reported} (absent
     * when unknown), {@code auxiliary}, {@code options} and {@code counterparts} (library →
     * {@link Counterpart#describe}).
     */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("family", family);
        m.put("description", description);
        m.put("paper", paper.describe());
        m.put("input", List.of(inputShape[0], inputShape[1], inputShape[2]));
        m.put("classes", classes);
        m.put("preprocessing", preprocessing.describe());
        if (reported != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("top1", reported.top1());
            r.put("top5", reported.top5());
            r.put("protocol", reported.protocol());
            m.put("reported", r);
        }
        m.put("auxiliary", auxiliary);
        m.put("options", options);
        Map<String, Object> c = new LinkedHashMap<>();
        for (Counterpart counterpart : counterparts) {
            c.put(counterpart.library().key(), counterpart.describe(inputShape));
        }
        m.put("counterparts", c);
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelInfo i && id.equals(i.id) && family.equals(i.family) && description.equals(i.description)
                && paper.equals(i.paper) && Arrays.equals(inputShape, i.inputShape) && classes == i.classes
                && preprocessing.equals(i.preprocessing) && Objects.equals(reported, i.reported) && auxiliary == i.auxiliary
                && options.equals(i.options) && counterparts.equals(i.counterparts);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, family, description, Arrays.hashCode(inputShape), classes);
    }

    @Override
    public String toString() {
        return "ModelInfo[" + id + ", " + family + ", " + inputDescription() + ", " + classes + " classes]";
    }

    /** Named fields; {@link #build()} checks that every required one (all but reported, auxiliary, options, counterparts) is set. */
    public static final class Builder {
        private final String id;
        private String family;
        private String description;
        private Paper paper;
        private int[] inputShape;
        private Integer classes;
        private Preprocessing preprocessing;
        private ReportedError reported;
        private boolean auxiliary;
        private final Map<String, String> options = new LinkedHashMap<>();
        private final List<Counterpart> counterparts = new ArrayList<>();

        private Builder(String id) {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("a model id must not be empty");
            }
            this.id = id;
        }

        public Builder family(String family) {
            this.family = family;
            return this;
        }

        public Builder description(String description) {
            this.description = description;
            return this;
        }

        public Builder paper(Paper paper) {
            this.paper = paper;
            return this;
        }

        /** The default input: channels, height, width. */
        public Builder input(int channels, int height, int width) {
            this.inputShape = new int[] {channels, height, width};
            return this;
        }

        /** The default number of classes. */
        public Builder classes(int classes) {
            this.classes = classes;
            return this;
        }

        public Builder preprocessing(Preprocessing preprocessing) {
            this.preprocessing = preprocessing;
            return this;
        }

        /** The paper's error rates (null: none reported). */
        public Builder reported(ReportedError reported) {
            this.reported = reported;
            return this;
        }

        /** The network has auxiliary classifiers, on by default in its training form. */
        public Builder auxiliary(boolean auxiliary) {
            this.auxiliary = auxiliary;
            return this;
        }

        /** A family option ({@code --option key=value}) and a line on what it does. */
        public Builder option(String key, String help) {
            if (options.putIfAbsent(key, help) != null) {
                throw new IllegalStateException("model " + id + " lists option " + key + " twice");
            }
            return this;
        }

        /** The same network in another library (one per library). */
        public Builder counterpart(Counterpart counterpart) {
            if (counterparts.stream().anyMatch(c -> c.library() == counterpart.library())) {
                throw new IllegalStateException("model " + id + " names two " + counterpart.library().key() + " counterparts");
            }
            counterparts.add(counterpart);
            return this;
        }

        public ModelInfo build() {
            return new ModelInfo(this);
        }
    }
}
