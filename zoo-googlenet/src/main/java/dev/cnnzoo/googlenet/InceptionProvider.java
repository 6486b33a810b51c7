package dev.cnnzoo.googlenet;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelProvider;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ReportedError;
import dev.cnnzoo.graph.Graph;
import java.util.List;
import java.util.Map;

/** The Inception family: GoogLeNet and the networks that grew from its module. */
public final class InceptionProvider implements ModelProvider {
    static final String FAMILY = "inception";

    private static final Paper SZEGEDY_2014 = Paper.arxiv(
            "C. Szegedy, W. Liu, Y. Jia, P. Sermanet, S. Reed, D. Anguelov, D. Erhan, V. Vanhoucke, A. Rabinovich",
            "Going deeper with convolutions", 2014, "CVPR 2015", "1409.4842");
    private static final Paper SZEGEDY_2015 = Paper.arxiv("C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna",
            "Rethinking the Inception architecture for computer vision", 2015, "CVPR 2016", "1512.00567");
    private static final Paper SZEGEDY_2016 = Paper.arxiv("C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi",
            "Inception-v4, Inception-ResNet and the impact of residual connections on learning", 2016, "AAAI 2017",
            "1602.07261");
    private static final Paper CHOLLET_2017 = Paper.arxiv("F. Chollet",
            "Xception: deep learning with depthwise separable convolutions", 2017, "CVPR 2017", "1610.02357");

    private static final String SINGLE_CROP = "ILSVRC-2012 val, one model, one crop";

    private static final List<ModelInfo> MODELS = List.of(
            new ModelInfo("googlenet", FAMILY,
                    "GoogLeNet as published: LRN, nine inception modules, 7×7 average pooling, 40% dropout, "
                            + "auxiliary classifiers on 4a and 4d",
                    SZEGEDY_2014, new int[] {3, 224, 224}, 1000, Preprocessing.imagenet(256, 224),
                    new ReportedError(null, 10.07, SINGLE_CROP + " (Table 3)"), true, Map.of()),
            new ModelInfo("googlenet-bn", FAMILY,
                    "torchvision's GoogLeNet: batch norm after every convolution, no LRN; loads torchvision's weights by name",
                    SZEGEDY_2014, new int[] {3, 224, 224}, 1000, Preprocessing.inception(256, 224),
                    new ReportedError(30.222, 10.470, "ImageNet-1k val, torchvision's evaluation of its ported weights"), true, Map.of()),
            new ModelInfo("inception-v3", FAMILY,
                    "Inception v3: factorised 5×5 and 7×7 convolutions, efficient grid reductions, batch-norm auxiliary classifier",
                    SZEGEDY_2015, new int[] {3, 299, 299}, 1000, Preprocessing.inception(342, 299),
                    new ReportedError(21.2, 5.6, SINGLE_CROP + " (Table 3, BN-auxiliary)"), true, Map.of()),
            new ModelInfo("inception-v4", FAMILY,
                    "Inception-v4: stem, 4 × Inception-A, 7 × Inception-B, 3 × Inception-C with Reduction-A and -B",
                    SZEGEDY_2016, new int[] {3, 299, 299}, 1000, Preprocessing.inception(342, 299),
                    new ReportedError(20.0, 5.0, SINGLE_CROP + " (Table 2)"), false, Map.of()),
            new ModelInfo("inception-resnet-v1", FAMILY,
                    "Inception-ResNet-v1 from the paper's figures: residual inception blocks scaled by 0.17/0.10/0.20",
                    SZEGEDY_2016, new int[] {3, 299, 299}, 1000, Preprocessing.inception(342, 299),
                    new ReportedError(21.3, 5.5, SINGLE_CROP + " (Table 2)"), false, Map.of()),
            new ModelInfo("inception-resnet-v2", FAMILY,
                    "Inception-ResNet-v2 as Google released it (timm's names): 10/20/10 residual inception blocks",
                    SZEGEDY_2016, new int[] {3, 299, 299}, 1000, Preprocessing.inception(333, 299),
                    new ReportedError(19.9, 4.9, SINGLE_CROP + " (Table 2)"), false, Map.of()),
            new ModelInfo("xception", FAMILY,
                    "Xception: entry, middle (8 repeats) and exit flows of depthwise separable convolutions with residual connections",
                    CHOLLET_2017, new int[] {3, 299, 299}, 1000, Preprocessing.inception(333, 299),
                    new ReportedError(21.0, 5.5, SINGLE_CROP + " (Table 1)"), false, Map.of()));

    @Override
    public List<ModelInfo> models() {
        return MODELS;
    }

    @Override
    public Graph build(ModelInfo info, ModelConfig config) {
        return switch (info.id()) {
            case "googlenet" -> GoogLeNet.build(info.id(), GoogLeNet.Variant.PAPER, config);
            case "googlenet-bn" -> GoogLeNet.build(info.id(), GoogLeNet.Variant.TORCHVISION, config);
            case "inception-v3" -> InceptionV3.build(info.id(), config);
            case "inception-v4" -> InceptionV4.build(info.id(), config);
            case "inception-resnet-v1" -> InceptionResNet.build(info.id(), InceptionResNet.Variant.V1, config);
            case "inception-resnet-v2" -> InceptionResNet.build(info.id(), InceptionResNet.Variant.V2, config);
            case "xception" -> Xception.build(info.id(), config);
            default -> throw new IllegalArgumentException("not an Inception-family id: " + info.id());
        };
    }
}
