package dev.cnnzoo.spark.predict;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.image.ImageFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.StructField;

/**
 * Batch inference from images to a table: read the images (a folder, searched recursively; a
 * glob; or a Parquet or CSV table with a path or binary column), run a {@link ZooClassifier} or
 * {@link ZooFeatureExtractor} over them, and write one row per image as CSV ({@code .csv}) or
 * Parquet (anything else), the way Spark writes: a folder of part files.
 */
public final class BatchPrediction {
    /** What a run did: images seen, how many could not be read, where the rows went, and its times. */
    public record Result(long images, long unreadable, String out, double seconds) {
        public double imagesPerSecond() {
            return images / seconds;
        }
    }

    /**
     * Spark's own default open cost (4 MB a file) packs only ~32 small images into a 128 MB split,
     * so 10,000 Fashion-MNIST PNGs became ~300 tasks; at 8 KB a file, splits follow the cores.
     */
    public static final String IMAGE_OPEN_COST = "8192";

    private BatchPrediction() {
    }

    /**
     * The images at {@code where} as a DataFrame: a table's rows as they are, or for a folder or
     * glob Spark's {@code binaryFile} rows ({@code path}, {@code content}, ...) of every file
     * named as an image (JPEG, PNG, BMP, GIF, TIFF).
     *
     * @throws ZooException when nothing is there
     */
    public static Dataset<Row> read(SparkSession spark, String where) {
        String lower = where.toLowerCase(Locale.ROOT);
        Dataset<Row> rows;
        try {
            if (lower.endsWith(".parquet")) {
                rows = spark.read().parquet(where);
            } else if (lower.endsWith(".csv")) {
                rows = spark.read().option("header", "true").csv(where);
            } else {
                boolean glob = where.chars().anyMatch(c -> "*?[{".indexOf(c) >= 0);
                rows = spark.read().format("binaryFile").option("recursiveFileLookup", String.valueOf(!glob))
                        .option("pathGlobFilter", imageNames()).load(where);
            }
        } catch (Exception e) {     // Spark's AnalysisException is checked in Java's eyes but thrown unchecked
            if (e instanceof AnalysisException) {
                throw new ZooException("cannot read images from " + where + ": " + e.getMessage().lines().findFirst().orElse(""));
            }
            throw e;
        }
        if (rows.isEmpty()) {
            throw new ZooException("no images found at " + where + " (" + String.join(", ", ImageFiles.EXTENSIONS) + ")");
        }
        return rows;
    }

    /** A Hadoop glob of every image extension, in either case. */
    private static String imageNames() {
        List<String> names = new ArrayList<>();
        for (String e : ImageFiles.EXTENSIONS) {
            names.add(e.substring(1));
            names.add(e.substring(1).toUpperCase(Locale.ROOT));
        }
        return "*.{" + String.join(",", names) + "}";
    }

    /**
     * Runs {@code stage} over the images at {@code images} and writes the rows to {@code out}:
     * the image's {@code path} (where the input has one), the stage's columns, and a table's own
     * columns other than file bytes.
     *
     * @throws ZooException when {@code out} exists and {@code overwrite} is false
     */
    public static Result run(SparkSession spark, ZooImageTransformer<?> stage, String images, String out, boolean overwrite) {
        long started = System.nanoTime();
        refuseExisting(spark, out, overwrite);
        Dataset<Row> input = read(spark, images);
        Dataset<Row> result = stage.transform(input);
        List<Column> keep = new ArrayList<>();
        for (StructField f : result.schema().fields()) {
            boolean bytes = f.dataType() instanceof BinaryType;
            boolean fileInfo = input.schema().getFieldIndex(f.name()).isDefined() && (f.name().equals("modificationTime") || f.name().equals("length"))
                    && input.schema().getFieldIndex("content").isDefined();
            boolean struct = f.dataType() instanceof org.apache.spark.sql.types.StructType;
            if (!bytes && !fileInfo && !struct) {
                keep.add(csv(out) && f.name().equals(ZooFeatureExtractor.FEATURES_COL) ? vectorAsText(f.name()) : functions.col(f.name()));
            }
        }
        DataFrameWriter<Row> writer = result.select(keep.toArray(Column[]::new)).write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists);
        if (csv(out)) {
            writer.option("header", "true").csv(out);
        } else {
            writer.parquet(out);
        }
        return new Result(stage.imagesSeen(), stage.imagesUnreadable(), out, (System.nanoTime() - started) / 1e9);
    }

    private static boolean csv(String out) {
        return out.toLowerCase(Locale.ROOT).endsWith(".csv");
    }

    /** CSV holds no vectors: the features as numbers separated by spaces. */
    private static Column vectorAsText(String name) {
        return functions.concat_ws(" ", org.apache.spark.ml.functions.vector_to_array(functions.col(name), "float32").cast("array<string>"))
                .as(name);
    }

    private static void refuseExisting(SparkSession spark, String out, boolean overwrite) {
        if (overwrite) {
            return;
        }
        Path p = new Path(out);
        try {
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (fs.exists(p)) {
                throw new ZooException(out + " already exists; it is replaced only when overwriting is asked for");
            }
        } catch (IOException e) {
            throw new ZooException("cannot check the output " + out + ": " + e.getMessage(), e);
        }
    }
}
