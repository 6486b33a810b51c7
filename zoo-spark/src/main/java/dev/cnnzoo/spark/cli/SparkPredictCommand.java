package dev.cnnzoo.spark.cli;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.cli.ModelOptions;
import dev.cnnzoo.spark.predict.BatchPrediction;
import dev.cnnzoo.spark.predict.ExecutorModels;
import dev.cnnzoo.spark.predict.ZooClassifier;
import dev.cnnzoo.spark.predict.ZooFeatureExtractor;
import dev.cnnzoo.spark.predict.ZooImageTransformer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "predict", description = {"Classify (or embed, with --features) images on Spark, preprocessed exactly as `zoo predict` does.",
        "Writes one row per image (path, class, label, probability, top, error) as CSV (OUT ending in .csv) or Parquet, "
                + "as Spark writes: a folder of part files. An unreadable image gets its reason in the error column; the rest go on."})
final class SparkPredictCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL|FILE.onnx", description = "A zoo model id, or an ONNX file the zoo exported.")
    String model;

    @Option(names = "--images", required = true, paramLabel = "PATH",
            description = "A folder (searched recursively), a glob, or a Parquet/CSV table with a path or binary column.")
    String images;

    @Option(names = "--out", required = true, paramLabel = "OUT", description = "Output: CSV when it ends in .csv, else Parquet.")
    String out;

    @Option(names = "--weights", paramLabel = "FILE|pretrained", description = "For a model id, its weights: 'pretrained' (the zoo's own), "
            + "a .safetensors file, a PyTorch .pth checkpoint, a Keras .h5 file, or an ONNX file (mapped onto the model's names), "
            + "as for `zoo predict`.")
    String weights;

    @Option(names = "--labels", paramLabel = "FILE", description = "Class names, one per line, the first naming class 0.")
    Path labels;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5", description = "Classes in the top column (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "16", description = "Images per run (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--features", description = "Write each image's pooled feature vector (the model without its classifier) instead of classes.")
    boolean features;

    @Option(names = "--overwrite", description = "Replace OUT if it exists.")
    boolean overwrite;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Intra-op threads of each executor's session; 0: the task's cores (spark.task.cpus).")
    int threads;

    @Mixin
    SparkOptions sparkOptions;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (top < 1) {
            throw new ZooException("--top must be at least 1, got " + top);
        }
        if (batch < 1) {
            throw new ZooException("--batch must be at least 1, got " + batch);
        }
        boolean file = model.endsWith(".onnx");
        if (!file && weights == null) {
            throw new ZooException("--weights is needed for a zoo model id: pretrained, or a weights file");
        }
        if (file && weights != null) {
            throw new ZooException("--weights is for a zoo model id; " + model + " holds its weights");
        }
        ZooImageTransformer<?> stage = features ? new ZooFeatureExtractor() : new ZooClassifier().setTopK(top);
        stage.setModel(model).setModelConfig(modelOptions.config()).setBatchSize(batch).setThreads(threads);
        if (weights != null) {
            stage.setWeights(weights);
        }
        if (labels != null) {
            stage.setLabelsFile(labels.toString());
        }
        PrintWriter outWriter = spec.commandLine().getOut();
        long started = System.nanoTime();
        SparkSession spark = sparkOptions.session("zoo spark predict " + model, Map.of("spark.sql.files.openCostInBytes", BatchPrediction.IMAGE_OPEN_COST));
        try {
            double startup = (System.nanoTime() - started) / 1e9;
            BatchPrediction.Result r = BatchPrediction.run(spark, stage, images, out, overwrite);
            outWriter.printf(Locale.ROOT, "%s: %d images%s on %s, written to %s in %.1f s (%.0f images/s); Spark started in %.1f s%n", model,
                    r.images(), r.unreadable() == 0 ? "" : " (" + r.unreadable() + " unreadable: see the error column)",
                    spark.sparkContext().master(), r.out(), r.seconds(), r.imagesPerSecond(), startup);
            outWriter.flush();
            return r.unreadable() == 0 ? 0 : 1;
        } finally {
            spark.stop();
            ExecutorModels.closeAll();
        }
    }
}
