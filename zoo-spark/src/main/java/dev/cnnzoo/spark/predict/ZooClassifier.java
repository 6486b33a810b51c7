package dev.cnnzoo.spark.predict;

import dev.cnnzoo.runtime.predict.Predictor;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * A Spark ML {@link org.apache.spark.ml.Transformer} that classifies a DataFrame's images with a
 * zoo model, adding {@value #CLASS_COL} (the best class's index), {@value #LABEL_COL} (its name),
 * {@value #PROBABILITY_COL} (its softmax probability), {@value #TOP_COL} (the {@code topK} best as
 * {@code label:probability}, separated by {@code ;}) and {@value ZooImageTransformer#ERROR_COL}.
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").load("photos/");
 * Dataset<Row> labelled = new ZooClassifier().setModel("resnet50").setWeights("pretrained").transform(images);
 * }</pre>
 */
public final class ZooClassifier extends ZooImageTransformer<ZooClassifier> {
    public static final String CLASS_COL = "class";
    public static final String LABEL_COL = "label";
    public static final String PROBABILITY_COL = "probability";
    public static final String TOP_COL = "top";

    private final IntParam topK;

    public ZooClassifier() {
        this(Identifiable$.MODULE$.randomUID("zooClassifier"));
    }

    public ZooClassifier(String uid) {
        super(uid);
        topK = new IntParam(this, "topK", "classes listed in the top column", ParamValidators.gtEq(1));
        setDefault(topK, 5);
    }

    public IntParam topK() {
        return topK;
    }

    public ZooClassifier setTopK(int k) {
        set(topK, k);
        return this;
    }

    @Override
    boolean featuresOnly() {
        return false;
    }

    @Override
    List<StructField> outputFields() {
        return List.of(nullable(CLASS_COL, DataTypes.IntegerType), nullable(LABEL_COL, DataTypes.StringType),
                nullable(PROBABILITY_COL, DataTypes.DoubleType), nullable(TOP_COL, DataTypes.StringType),
                nullable(ERROR_COL, DataTypes.StringType));
    }

    @Override
    Object[] outputValues(Predictor predictor, float[] logits, String error) {
        if (logits == null) {
            return new Object[] {null, null, null, null, error};
        }
        List<Predictor.Score> top = predictor.top(logits, (int) getOrDefault(topK));
        Predictor.Score best = top.get(0);
        String list = top.stream().map(s -> s.label() + ":" + String.format(Locale.ROOT, "%.6f", s.probability()))
                .collect(Collectors.joining(";"));
        return new Object[] {best.index(), best.label(), best.probability(), list, null};
    }
}
