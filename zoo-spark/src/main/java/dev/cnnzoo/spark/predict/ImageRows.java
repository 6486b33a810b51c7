package dev.cnnzoo.spark.predict;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.image.ImageFiles;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.image.ImageSchema;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Where a row's image is and how to decode it: a binary column of file bytes (Spark's
 * {@code binaryFile} source, or a table's), Spark's {@code image} struct (its {@code image}
 * source), or a string column of paths (any file system Hadoop reaches: local, HDFS, S3).
 * File bytes and paths are decoded by {@link ImageFiles}, exactly as {@code zoo predict} decodes
 * files; Spark's image structs were decoded by Spark and are converted from its BGR layout.
 */
final class ImageRows implements Serializable {
    enum Kind { BYTES, IMAGE_STRUCT, PATH }

    /** Columns tried, in order, when none is named. */
    static final String[] DEFAULT_COLUMNS = {"content", "image", "path"};

    private final Kind kind;
    private final int column;
    private final int nameColumn;

    private ImageRows(Kind kind, int column, int nameColumn) {
        this.kind = kind;
        this.column = column;
        this.nameColumn = nameColumn;
    }

    /** The column {@code name} of {@code schema} (or the first of {@link #DEFAULT_COLUMNS} present when null). */
    static ImageRows in(StructType schema, String name) {
        String col = name;
        if (col == null) {
            for (String c : DEFAULT_COLUMNS) {
                if (java.util.Arrays.asList(schema.fieldNames()).contains(c)) {
                    col = c;
                    break;
                }
            }
            if (col == null) {
                throw new ZooException("the data has no image column (content, image or path); its columns are "
                        + String.join(", ", schema.fieldNames()));
            }
        }
        if (!java.util.Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new ZooException("the data has no column '" + col + "'; its columns are " + String.join(", ", schema.fieldNames()));
        }
        StructField f = schema.apply(col);
        DataType t = f.dataType();
        Kind kind;
        if (t instanceof BinaryType) {
            kind = Kind.BYTES;
        } else if (t instanceof StringType) {
            kind = Kind.PATH;
        } else if (t instanceof StructType s && java.util.Arrays.asList(s.fieldNames()).contains("nChannels")) {
            kind = Kind.IMAGE_STRUCT;
        } else {
            throw new ZooException("column '" + col + "' is " + t.simpleString() + "; an image column holds file bytes (binary), "
                    + "paths (string) or Spark's image struct");
        }
        int nameColumn = java.util.Arrays.asList(schema.fieldNames()).indexOf("path");
        return new ImageRows(kind, schema.fieldIndex(col), nameColumn);
    }

    /** What to call the row's image in messages: its path where the row has one. */
    String name(Row row) {
        if (nameColumn >= 0 && !row.isNullAt(nameColumn)) {
            return String.valueOf(row.get(nameColumn));
        }
        if (kind == Kind.IMAGE_STRUCT && !row.isNullAt(column)) {
            return ImageSchema.getOrigin(row.getStruct(column));
        }
        return "the image";
    }

    /** The row's image with {@code channels} channels; a {@link ZooException} names what is wrong with it. */
    ImageFiles.Decoded decode(Row row, int channels) {
        String name = name(row);
        if (row.isNullAt(column)) {
            throw new ZooException(name + ": no image (null)");
        }
        return switch (kind) {
            case BYTES -> ImageFiles.decode((byte[]) row.get(column), name, channels);
            case PATH -> ImageFiles.decode(read(row.getString(column)), name, channels);
            case IMAGE_STRUCT -> ImageFiles.convert(fromStruct(row.getStruct(column), name), channels);
        };
    }

    private static byte[] read(String path) {
        Path p = new Path(path);
        try {
            FileSystem fs = p.getFileSystem(new Configuration());
            try (InputStream in = fs.open(p)) {
                return in.readAllBytes();
            }
        } catch (java.io.FileNotFoundException e) {
            throw new ZooException("image " + path + " does not exist");
        } catch (IOException e) {
            throw new ZooException("cannot read image " + path + ": " + e.getMessage(), e);
        }
    }

    /** Spark's image struct (rows of B, G, R[, A] bytes, or grey) as the BufferedImage it was decoded from. */
    private static BufferedImage fromStruct(Row image, String name) {
        int h = ImageSchema.getHeight(image);
        int w = ImageSchema.getWidth(image);
        int c = ImageSchema.getNChannels(image);
        byte[] data = ImageSchema.getData(image);
        BufferedImage img = switch (c) {
            case 1 -> new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            case 3 -> new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
            case 4 -> new BufferedImage(w, h, BufferedImage.TYPE_4BYTE_ABGR);
            default -> throw new ZooException(name + ": Spark's image has " + c + " channels; 1, 3 or 4 are read");
        };
        if (data.length != h * w * c) {
            throw new ZooException(name + ": Spark's image holds " + data.length + " bytes, not " + h + "×" + w + "×" + c);
        }
        byte[] dst = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        if (c == 4) {
            // Spark stores B, G, R, A; Java's 4-byte type stores A, B, G, R.
            for (int i = 0; i < h * w; i++) {
                dst[4 * i] = data[4 * i + 3];
                dst[4 * i + 1] = data[4 * i];
                dst[4 * i + 2] = data[4 * i + 1];
                dst[4 * i + 3] = data[4 * i + 2];
            }
        } else {
            System.arraycopy(data, 0, dst, 0, data.length);
        }
        return img;
    }
}
