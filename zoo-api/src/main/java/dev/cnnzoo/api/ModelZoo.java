package dev.cnnzoo.api;

import dev.cnnzoo.graph.FeatureStage;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.ShapeException;
import dev.cnnzoo.graph.Summary;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The models on the class path: every {@link ModelProvider} that {@link ServiceLoader} finds.
 * Lists them (all, by glob, by family), finds one by id, and builds it with a {@link ModelConfig}.
 */
public final class ModelZoo {
    private record Entry(ModelEntry model, ModelProvider provider) {
        ModelInfo info() {
            return model.info();
        }
    }

    private final Map<String, Entry> byId = new LinkedHashMap<>();
    private final Map<String, Summary> summaries = new ConcurrentHashMap<>();

    private ModelZoo(Iterable<ModelProvider> providers) {
        List<Entry> entries = new ArrayList<>();
        for (ModelProvider p : providers) {
            for (ModelEntry model : p.models()) {
                entries.add(new Entry(model, p));
            }
        }
        entries.sort(Comparator.comparing(Entry::info, NaturalOrder.models()));
        for (Entry e : entries) {
            Entry clash = byId.putIfAbsent(e.info().id(), e);
            if (clash != null) {
                String by = clash.provider() == e.provider() ? "listed twice by " + e.provider().getClass().getName()
                        : "offered by both " + clash.provider().getClass().getName() + " and " + e.provider().getClass().getName();
                throw new ZooException("model id '" + e.info().id() + "' is " + by);
            }
        }
    }

    /** The providers the context class loader can see. */
    public static ModelZoo load() {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        return load(cl != null ? cl : ModelZoo.class.getClassLoader());
    }

    public static ModelZoo load(ClassLoader loader) {
        return new ModelZoo(ServiceLoader.load(ModelProvider.class, loader));
    }

    /** A zoo of exactly these providers (tests, embedding). */
    public static ModelZoo of(List<ModelProvider> providers) {
        return new ModelZoo(providers);
    }

    /** Every model, ordered by family and id ({@link NaturalOrder}: resnet18 before resnet101). */
    public List<ModelInfo> list() {
        return byId.values().stream().map(Entry::info).toList();
    }

    /**
     * The models whose id matches {@code pattern} as a glob ({@code resnet*}, {@code vgg1?-bn}) or
     * whose family is {@code pattern}.
     */
    public List<ModelInfo> list(String pattern) {
        Pattern glob = globToRegex(pattern);
        return list().stream()
                .filter(i -> glob.matcher(i.id()).matches() || i.family().equalsIgnoreCase(pattern))
                .toList();
    }

    /** The models of one family. */
    public List<ModelInfo> family(String family) {
        return list().stream().filter(i -> i.family().equalsIgnoreCase(family)).toList();
    }

    /** The model with this id. */
    public ModelInfo find(String id) {
        Entry e = byId.get(id);
        if (e == null) {
            throw new UnknownModelException(id, suggestions(id));
        }
        return e.info();
    }

    public boolean contains(String id) {
        return byId.containsKey(id);
    }

    public Model build(String id) {
        return build(id, ModelConfig.defaults());
    }

    /**
     * Builds a model. A configuration the network cannot take (an input too small for its
     * poolings, say) is an {@link InvalidConfigException} naming the value and the layer.
     */
    public Model build(String id, ModelConfig config) {
        ModelInfo info = find(id);
        ModelConfig resolved = config.resolve(info);
        try {
            Graph graph = byId.get(id).model().builder().build(info, resolved);
            return new Model(info, resolved, resolved.featuresOnly() ? featureStages(id, graph, resolved.outIndices()) : graph);
        } catch (ShapeException e) {
            int[] size = resolved.inputSize();
            String input = resolved.inputChannels() + "×" + size[0] + "×" + size[1];
            throw new InvalidConfigException("input " + input + " does not fit " + id + " (default " + info.inputDescription()
                    + "): " + e.getMessage(), e);
        }
    }

    /**
     * The stages {@code outIndices} picks (all when empty) of a network built for its features only,
     * the shared end of every provider's feature extraction: the provider marks its stages and
     * outputs them all, the zoo keeps those asked for.
     */
    private static Graph featureStages(String id, Graph graph, List<Integer> outIndices) {
        if (!graph.outputsFeatureStages()) {
            throw new InvalidConfigException(id + " marks no feature stages, so it cannot be built for its features only");
        }
        List<FeatureStage> stages = graph.featureStages();
        if (outIndices.isEmpty()) {
            return graph;
        }
        int last = outIndices.get(outIndices.size() - 1);
        if (last > stages.size()) {
            throw new InvalidConfigException("out index " + last + " is past the last feature stage of " + id + ", which has "
                    + stages.size() + ": " + stages.stream().map(s -> s.name() + " (" + s.layer() + ", /" + s.reduction() + ")")
                            .collect(java.util.stream.Collectors.joining(", ")));
        }
        return graph.selectFeatureStages(outIndices);
    }

    /** What the zoo's pretrained weights for {@code id} are, if it ships any. */
    public java.util.Optional<PretrainedWeights> pretrainedInfo(String id) {
        find(id);
        return byId.get(id).model().pretrainedWeights();
    }

    /**
     * The zoo's pretrained weights for {@code id} (its default configuration).
     *
     * @throws ZooException when the family ships none, naming the models that have some
     */
    public dev.cnnzoo.weights.Weights pretrained(String id) {
        PretrainedWeights p = pretrainedInfo(id).orElseThrow(() -> new ZooException("the zoo ships no pretrained weights for " + id
                + (idsWithPretrained().isEmpty() ? "" : "; it has them for " + String.join(", ", idsWithPretrained()))));
        try (java.io.InputStream in = p.opener().open()) {
            return dev.cnnzoo.weights.Safetensors.read(in.readAllBytes(), id + " (pretrained)");
        } catch (java.io.IOException e) {
            throw new ZooException("cannot read the pretrained weights of " + id + ": " + e.getMessage(), e);
        }
    }

    /** The ids the zoo ships pretrained weights for. */
    public List<String> idsWithPretrained() {
        return byId.values().stream().filter(e -> e.model().pretrainedWeights().isPresent()).map(e -> e.info().id()).toList();
    }

    /**
     * The summary of a model as deployed at its defaults (inference form: auxiliary classifiers, which
     * exist for training only, not counted): parameters, MACs, per-layer shapes. Cached.
     */
    public Summary summary(String id) {
        return summaries.computeIfAbsent(id, k -> Summary.of(build(k).graph().inferenceForm(false)));
    }

    /** Up to three ids close to {@code id}: by edit distance, prefix, or containment. */
    List<String> suggestions(String id) {
        String q = id.toLowerCase();
        record Scored(String id, int score) {
        }
        return byId.keySet().stream()
                .map(k -> {
                    int d = editDistance(q, k);
                    if (k.startsWith(q) || q.startsWith(k) || k.contains(q)) {
                        d = Math.min(d, 1);
                    }
                    return new Scored(k, d);
                })
                .filter(s -> s.score() <= Math.max(2, q.length() / 3))
                .sorted(Comparator.comparingInt(Scored::score).thenComparing(Scored::id))
                .limit(3)
                .map(Scored::id)
                .toList();
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    static Pattern globToRegex(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[', ']' -> re.append(c);
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.CASE_INSENSITIVE);
    }
}
