package dev.cnnzoo.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.onnx.OnnxFiles;
import dev.cnnzoo.onnx.ZooMetadata;
import dev.cnnzoo.onnx.quantize.QdqRewrite;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A float ONNX model to quantize, with what calibration needs to feed it images: how they are
 * preprocessed and the size of one input (channels, height, width).
 *
 * @param description what it is, for reports ("resnet50", "resnet50-tv.onnx")
 */
public record FloatModel(ModelProto proto, Preprocessing preprocessing, int channels, int height, int width, String description) {
    public FloatModel {
        QdqRewrite.requireFloat(proto);
        if (preprocessing.channels() != channels) {
            throw new ZooException(description + " takes " + channels + "-channel images but its preprocessing normalises "
                    + preprocessing.channels());
        }
    }

    /** A zoo model's inference form with {@code weights}, exported with {@code options}. */
    public static FloatModel of(Model model, Weights weights, ExportOptions options) {
        ModelProto proto = OnnxExporter.toProto(model.graph(), weights, ModelExporter.withModelMetadata(model, options));
        int[] size = model.config().inputSize();
        return new FloatModel(proto, model.info().preprocessing(), model.config().inputChannels(), size[0], size[1], model.id());
    }

    /**
     * An ONNX file. Its preprocessing and input size are those its zoo metadata records, else
     * {@code recipe}'s at the input's size (224 where the input leaves it open).
     */
    public static FloatModel read(Path file, Recipe recipe) {
        ModelProto proto = OnnxFiles.read(file);
        List<TensorShapeProto.Dimension> dims = imageInput(proto, file.getFileName().toString()).getType().getTensorType().getShape()
                .getDimList();
        int crop = dims.size() == 4 && dims.get(2).hasDimValue() ? (int) dims.get(2).getDimValue() : 224;
        return of(proto, recipe.at(crop), file.getFileName().toString());
    }

    /** The usual preprocessing recipes, for files that record none. */
    public enum Recipe {
        /** torchvision's ImageNet recipe: resize to 256/224 of the crop, ImageNet's mean and std. */
        IMAGENET,
        /** Inception's: resize to 342/299 of the crop (torchvision's Inception v3), pixels scaled to [−1, 1]. */
        INCEPTION;

        public Preprocessing at(int crop) {
            return this == IMAGENET ? Preprocessing.imagenet(Math.round(crop * 256f / 224), crop)
                    : Preprocessing.inception(Math.round(crop * 342f / 299), crop);
        }

        public static Recipe parse(String name) {
            try {
                return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ZooException("unknown preprocessing '" + name + "'; the recipes are imagenet and inception");
            }
        }
    }

    /** A model in memory; see {@link #read}. */
    public static FloatModel of(ModelProto proto, Preprocessing fallback, String description) {
        ZooMetadata meta = ZooMetadata.of(proto);
        Preprocessing pre = meta.preprocessing().orElse(fallback);
        ValueInfoProto input = imageInput(proto, description);
        List<TensorShapeProto.Dimension> dims = input.getType().getTensorType().getShape().getDimList();
        int[] chw = meta.input().orElse(null);
        if (chw == null) {
            int c = dims.size() == 4 && dims.get(1).hasDimValue() ? (int) dims.get(1).getDimValue() : pre.channels();
            int h = dims.size() == 4 && dims.get(2).hasDimValue() ? (int) dims.get(2).getDimValue() : pre.crop();
            int w = dims.size() == 4 && dims.get(3).hasDimValue() ? (int) dims.get(3).getDimValue() : pre.crop();
            chw = new int[] {c, h, w};
        }
        if (pre.channels() != chw[0] && meta.preprocessing().isEmpty()) {
            throw new ZooException(description + " takes " + chw[0] + "-channel images; give a preprocessing for " + chw[0] + " channel(s)");
        }
        return new FloatModel(proto, pre, chw[0], chw[1], chw[2], description);
    }

    /** The one image input (N×C×H×W) of a model; anything else is not a network the quantizer can calibrate. */
    static ValueInfoProto imageInput(ModelProto proto, String description) {
        Set<String> initializers = new java.util.HashSet<>();
        proto.getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
        List<ValueInfoProto> inputs = proto.getGraph().getInputList().stream().filter(v -> !initializers.contains(v.getName())).toList();
        if (inputs.size() != 1) {
            throw new ZooException(description + " has " + inputs.size() + " inputs " + inputs.stream().map(ValueInfoProto::getName).toList()
                    + "; calibration feeds one batch of images");
        }
        ValueInfoProto in = inputs.get(0);
        int rank = in.getType().getTensorType().getShape().getDimCount();
        if (in.getType().getTensorType().hasShape() && rank != 4) {
            throw new ZooException(description + "'s input '" + in.getName() + "' has rank " + rank
                    + "; calibration feeds batches of images (N×C×H×W)");
        }
        return in;
    }

    public String inputName() {
        return imageInput(proto, description).getName();
    }
}
