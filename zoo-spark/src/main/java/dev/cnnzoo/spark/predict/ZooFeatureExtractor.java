package dev.cnnzoo.spark.predict;

import dev.cnnzoo.runtime.predict.Predictor;
import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * A Spark ML {@link org.apache.spark.ml.Transformer} that embeds a DataFrame's images: the zoo
 * model without its classifier, its pooled feature vector as an ML {@code Vector} in
 * {@value #FEATURES_COL} (ready for a {@code Pipeline}'s next stage: k-means, logistic regression,
 * nearest-neighbour search), and {@value ZooImageTransformer#ERROR_COL}.
 */
public final class ZooFeatureExtractor extends ZooImageTransformer<ZooFeatureExtractor> {
    public static final String FEATURES_COL = "features";

    public ZooFeatureExtractor() {
        this(Identifiable$.MODULE$.randomUID("zooFeatureExtractor"));
    }

    public ZooFeatureExtractor(String uid) {
        super(uid);
    }

    @Override
    boolean featuresOnly() {
        return true;
    }

    @Override
    List<StructField> outputFields() {
        return List.of(nullable(FEATURES_COL, SQLDataTypes.VectorType()), nullable(ERROR_COL, DataTypes.StringType));
    }

    @Override
    Object[] outputValues(Predictor predictor, float[] features, String error) {
        if (features == null) {
            return new Object[] {null, error};
        }
        double[] v = new double[features.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = features[i];
        }
        return new Object[] {Vectors.dense(v), null};
    }
}
