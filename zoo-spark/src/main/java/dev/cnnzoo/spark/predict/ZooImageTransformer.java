package dev.cnnzoo.spark.predict;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.runtime.interchange.WeightsResolver;
import dev.cnnzoo.runtime.interchange.WeightsSource;
import dev.cnnzoo.runtime.predict.ClassNames;
import dev.cnnzoo.runtime.predict.Predictor;
import dev.cnnzoo.spark.ZooSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * What {@link ZooClassifier} and {@link ZooFeatureExtractor} share: a zoo model (an id with
 * weights, or an ONNX file the zoo exported) run over a DataFrame's image column on the executors,
 * each image prepared exactly as {@code zoo predict} prepares it. The model is exported once on the
 * driver and shipped once per executor ({@link ShippedModel}); each executor opens one session
 * for all its tasks ({@link ExecutorModels}); a partition's rows run in batches. A row whose
 * image cannot be read gets its reason in the {@value #ERROR_COL} column and nulls for the rest;
 * the job goes on.
 */
public abstract class ZooImageTransformer<T extends ZooImageTransformer<T>> extends Transformer {
    public static final String ERROR_COL = "error";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String uid;
    private final Param<String> model;
    private final Param<String> weights;
    private final Param<String> modelConfig;
    private final Param<String> labelsFile;
    private final Param<String> inputCol;
    private final IntParam batchSize;
    private final IntParam threads;
    /** The model shipped by the last transform, reused while the parameters that made it stay. */
    private transient ShippedModel shipped;
    private transient String shippedFor;
    private transient LongAccumulator images;
    private transient LongAccumulator unreadable;

    protected ZooImageTransformer(String uid) {
        this.uid = uid;
        model = new Param<>(this, "model", "a zoo model id, or an ONNX file the zoo exported");
        weights = new Param<>(this, "weights", "'pretrained', or a weights file (.safetensors, PyTorch .pth, Keras .h5, ONNX), for a zoo model id");
        modelConfig = new Param<>(this, "modelConfig", "the model's configuration overrides (ModelConfig.describe() as JSON)");
        labelsFile = new Param<>(this, "labelsFile", "class names, one per line (default: those the weights record)");
        inputCol = new Param<>(this, "inputCol", "the image column: file bytes (binary), paths (string) or Spark's image struct; "
                + "default: the first of content, image, path");
        batchSize = new IntParam(this, "batchSize", "images per ONNX Runtime run", ParamValidators.gtEq(1));
        threads = new IntParam(this, "threads", "intra-op threads of an executor's session; 0: the task's cores (spark.task.cpus)",
                ParamValidators.gtEq(0));
        setDefault(weights, "pretrained");
        setDefault(modelConfig, "{}");
        setDefault(batchSize, 16);
        setDefault(threads, 0);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> model() {
        return model;
    }

    public Param<String> weights() {
        return weights;
    }

    public Param<String> modelConfig() {
        return modelConfig;
    }

    public Param<String> labelsFile() {
        return labelsFile;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public IntParam threads() {
        return threads;
    }

    /** A zoo model id ({@code fashion-cnn}) or an ONNX file the zoo exported. */
    public T setModel(String idOrFile) {
        set(model, idOrFile);
        return self();
    }

    /**
     * {@code pretrained} (the default) or a weights file the zoo reads (safetensors, a PyTorch
     * checkpoint, Keras HDF5, ONNX: {@link WeightsResolver}); not used with an ONNX model file, which
     * holds its weights.
     */
    public T setWeights(String w) {
        set(weights, w);
        return self();
    }

    /** Overrides of the model's configuration (classes, input size, ...), as for {@code ModelZoo.build}. */
    public T setModelConfig(ModelConfig config) {
        try {
            set(modelConfig, JSON.writeValueAsString(config.describe()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return self();
    }

    public T setLabelsFile(String file) {
        set(labelsFile, file);
        return self();
    }

    public T setInputCol(String col) {
        set(inputCol, col);
        return self();
    }

    public T setBatchSize(int b) {
        set(batchSize, b);
        return self();
    }

    public T setThreads(int n) {
        set(threads, n);
        return self();
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    /** Whether this stage wants the model without its classifier (the pooled features). */
    abstract boolean featuresOnly();

    /** The columns this stage adds, {@value #ERROR_COL} last. */
    abstract List<StructField> outputFields();

    /** The added values of one row: from the model's output row, or all null (with the error) when the image was unreadable. */
    abstract Object[] outputValues(Predictor predictor, float[] output, String error);

    /** How many images the last transform's jobs ran, readable once an action has run. */
    public long imagesSeen() {
        return images == null ? 0 : images.value();
    }

    /** How many of them could not be read. */
    public long imagesUnreadable() {
        return unreadable == null ? 0 : unreadable.value();
    }

    @Override
    public StructType transformSchema(StructType schema) {
        ImageRows.in(schema, get(inputCol).isDefined() ? getOrDefault(inputCol) : null);
        StructType out = schema;
        for (StructField f : outputFields()) {
            if (java.util.Arrays.asList(schema.fieldNames()).contains(f.name())) {
                throw new ZooException("the data already has a column '" + f.name() + "'");
            }
            out = out.add(f);
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        ImageRows rows = ImageRows.in(dataset.schema(), get(inputCol).isDefined() ? getOrDefault(inputCol) : null);
        SparkSession spark = dataset.sparkSession();
        ShippedModel m = ship(spark);
        images = spark.sparkContext().longAccumulator("zoo images");
        unreadable = spark.sparkContext().longAccumulator("zoo unreadable images");
        Runner runner = new Runner(this, m, rows, (int) getOrDefault(batchSize), (int) getOrDefault(threads), images, unreadable);
        return spark.createDataFrame(dataset.toDF().javaRDD().mapPartitions(runner), out);
    }

    /** Exports and ships the model once per set of parameters. */
    private synchronized ShippedModel ship(SparkSession spark) {
        String key = getOrDefault(model) + "|" + getOrDefault(weights) + "|" + getOrDefault(modelConfig) + "|"
                + (get(labelsFile).isDefined() ? getOrDefault(labelsFile) : "") + "|" + featuresOnly();
        if (shipped != null && key.equals(shippedFor)) {
            return shipped;
        }
        if (!isDefined(model)) {
            throw new ZooException("no model set: call setModel with a zoo id or an ONNX file");
        }
        String target = getOrDefault(model);
        Path labels = get(labelsFile).isDefined() ? Path.of(getOrDefault(labelsFile)) : null;
        ShippedModel m;
        if (target.endsWith(".onnx")) {
            m = ShippedModel.file(spark.sparkContext(), Path.of(target), labels == null ? List.of() : ClassNames.read(labels));
            if (m.model().config().includeTop() == featuresOnly()) {
                throw new ZooException(target + (featuresOnly() ? " holds a classifier; features need the model exported without its top"
                        : " holds a model without its classifier; it has no classes to predict"));
            }
        } else {
            ModelZoo zoo = ModelZoo.load();
            ModelConfig config = configFrom(getOrDefault(modelConfig));
            if (featuresOnly()) {
                // The pooled vector is the top-less model's output.
                config = config.toBuilder().includeTop(false).build();
            }
            Model built = zoo.build(target, config);
            if (built.config().featuresOnly()) {
                throw new ZooException("the model configuration asks for every feature stage's map (featuresOnly); this stage gives "
                        + (featuresOnly() ? "the pooled feature vector" : "classes") + " and builds the model for it");
            }
            if (!featuresOnly() && !built.config().includeTop()) {
                throw new ZooException("the model configuration drops the classifier (includeTop false); it has no classes to predict");
            }
            // The zoo's one resolver: pretrained, or a safetensors, PyTorch, Keras or ONNX weights file, as every zoo command reads them.
            WeightsResolver.Resolved resolved = new WeightsResolver(zoo).resolve(WeightsSource.parse(getOrDefault(weights)), built);
            List<String> names = featuresOnly() ? List.of() : ClassNames.resolve(built, resolved, labels).names();
            m = ShippedModel.export(spark.sparkContext(), built, resolved.weights(), names, exportFolder());
        }
        shipped = m;
        shippedFor = key;
        return m;
    }

    private static Path exportFolder() {
        return Path.of(System.getProperty("java.io.tmpdir"), "zoo-spark-models");
    }

    private static ModelConfig configFrom(String json) {
        try {
            return ModelConfig.fromDescription(JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() { }));
        } catch (JsonProcessingException e) {
            throw new ZooException("modelConfig is not a configuration in JSON: " + e.getOriginalMessage());
        }
    }

    @Override
    public Transformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    static StructField nullable(String name, org.apache.spark.sql.types.DataType type) {
        return DataTypes.createStructField(name, type, true);
    }

    /** Runs one partition: rows batched, decoded on the task's thread, run on the executor's shared session. */
    private static final class Runner implements FlatMapFunction<Iterator<Row>, Row> {
        private final ZooImageTransformer stage;
        private final ShippedModel shipped;
        private final ImageRows rows;
        private final int batch;
        private final int threads;
        private final LongAccumulator images;
        private final LongAccumulator unreadable;

        Runner(ZooImageTransformer stage, ShippedModel shipped, ImageRows rows, int batch, int threads, LongAccumulator images,
                LongAccumulator unreadable) {
            this.stage = stage;
            this.shipped = shipped;
            this.rows = rows;
            this.batch = batch;
            this.threads = threads;
            this.images = images;
            this.unreadable = unreadable;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> input) {
            ExecutorModels.Loaded loaded = ExecutorModels.get(shipped, threads > 0 ? threads : ZooSpark.taskCores());
            Predictor predictor = Predictor.over(loaded.model(), loaded.session(), shipped.labels(), batch);
            int channels = loaded.model().config().inputChannels();
            return new Iterator<>() {
                private final List<Row> ready = new ArrayList<>();
                private int next;

                @Override
                public boolean hasNext() {
                    if (next < ready.size()) {
                        return true;
                    }
                    ready.clear();
                    next = 0;
                    if (input.hasNext()) {
                        runBatch();
                    }
                    return next < ready.size();
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return ready.get(next++);
                }

                private void runBatch() {
                    List<Row> in = new ArrayList<>(batch);
                    List<String> errors = new ArrayList<>(batch);
                    List<dev.cnnzoo.runtime.image.Planes> decoded = new ArrayList<>(batch);
                    while (in.size() < batch && input.hasNext()) {
                        Row r = input.next();
                        in.add(r);
                        try {
                            ImageFiles.Decoded d = rows.decode(r, channels);
                            decoded.add(d.planes());
                            errors.add(null);
                        } catch (ZooException e) {
                            errors.add(e.getMessage());
                        }
                    }
                    List<float[]> outputs = predictor.outputs(decoded);
                    int k = 0;
                    for (int i = 0; i < in.size(); i++) {
                        String error = errors.get(i);
                        Object[] added = stage.outputValues(predictor, error == null ? outputs.get(k++) : null, error);
                        Row r = in.get(i);
                        Object[] values = new Object[r.size() + added.length];
                        for (int c = 0; c < r.size(); c++) {
                            values[c] = r.get(c);
                        }
                        System.arraycopy(added, 0, values, r.size(), added.length);
                        ready.add(RowFactory.create(values));
                        if (error != null) {
                            unreadable.add(1);
                        }
                    }
                    images.add(in.size());
                }
            };
        }
    }
}
