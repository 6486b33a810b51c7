package dev.cnnzoo.vgg;

import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.ModelEntry;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelProvider;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ReportedError;
import dev.cnnzoo.vgg.Vgg.Configuration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The VGG family: {@code vgg11}, {@code vgg13}, {@code vgg16}, {@code vgg19} (configurations A, B,
 * D, E) and their {@code -bn} forms, one id per column of Table 1 with and without batch norm.
 */
public final class VggProvider implements ModelProvider {
    static final String FAMILY = "vgg";

    private static final Paper SIMONYAN_2014 = Paper.arxiv("K. Simonyan, A. Zisserman",
            "Very deep convolutional networks for large-scale image recognition", 2014, "ICLR 2015", "1409.1556");

    /** torchvision's ImageNet-1K top-1 and top-5 accuracies for its IMAGENET1K_V1 weights, which load by name. */
    private static final Map<String, double[]> TORCHVISION_ACCURACY = Map.of(
            "vgg11", new double[] {69.020, 88.628},
            "vgg13", new double[] {69.928, 89.246},
            "vgg16", new double[] {71.592, 90.382},
            "vgg19", new double[] {72.376, 90.876},
            "vgg11-bn", new double[] {70.370, 89.810},
            "vgg13-bn", new double[] {71.586, 90.374},
            "vgg16-bn", new double[] {73.360, 91.516},
            "vgg19-bn", new double[] {74.218, 91.842});

    private final List<ModelEntry> models = new ArrayList<>();

    public VggProvider() {
        for (boolean batchNorm : new boolean[] {false, true}) {
            for (Configuration c : Configuration.values()) {
                String id = "vgg" + c.weightLayers + (batchNorm ? "-bn" : "");
                double[] accuracy = TORCHVISION_ACCURACY.get(id);
                ModelInfo info = ModelInfo.builder(id).family(FAMILY)
                        .description("VGG-" + c.weightLayers + " (configuration " + c.name() + " of Table 1): "
                                + (c.weightLayers - 3) + " 3×3 convolutions in five stages of 64-128-256-512-512 maps"
                                + (batchNorm ? ", each followed by batch norm" : "") + ", dense 4096-4096 with dropout 0.5")
                        .paper(SIMONYAN_2014)
                        .input(3, 224, 224).classes(1000).preprocessing(Preprocessing.imagenet(256, 224))
                        .reported(new ReportedError(round(100 - accuracy[0]), round(100 - accuracy[1]),
                                "torchvision's IMAGENET1K_V1 weights, ImageNet val, 224 centre crop"))
                        .counterpart(Counterpart.torchvision("vgg" + c.weightLayers + (batchNorm ? "_bn" : "")))
                        .build();
                models.add(ModelEntry.of(info, (i, config) -> Vgg.build(i.id(), c, batchNorm, config)));
            }
        }
    }

    @Override
    public List<ModelEntry> models() {
        return List.copyOf(models);
    }

    private static double round(double percent) {
        return Math.round(percent * 1000) / 1000.0;
    }
}
