package dev.cnnzoo.googlenet;

import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.ModelEntry;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelProvider;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ReportedError;
import java.util.List;

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

    private static final List<ModelEntry> MODELS = List.of(
            ModelEntry.of(inception("googlenet", 224, Preprocessing.imagenet(256, 224))
                            .description("GoogLeNet as published: LRN, nine inception modules, 7×7 average pooling, 40% dropout, "
                                    + "auxiliary classifiers on 4a and 4d")
                            .paper(SZEGEDY_2014)
                            .reported(new ReportedError(null, 10.07, SINGLE_CROP + " (Table 3)"))
                            .auxiliary(true)
                            .build(),
                    (info, config) -> GoogLeNet.build(info.id(), GoogLeNet.Variant.PAPER, config)),
            ModelEntry.of(inception("googlenet-bn", 224, Preprocessing.inception(256, 224))
                            .description("torchvision's GoogLeNet: batch norm after every convolution, no LRN; loads torchvision's "
                                    + "weights by name")
                            .paper(SZEGEDY_2014)
                            .reported(new ReportedError(30.222, 10.470, "ImageNet-1k val, torchvision's evaluation of its ported weights"))
                            .auxiliary(true)
                            .counterpart(torchvision("googlenet"))
                            .build(),
                    (info, config) -> GoogLeNet.build(info.id(), GoogLeNet.Variant.TORCHVISION, config)),
            ModelEntry.of(inception("inception-v3", 299, Preprocessing.inception(342, 299))
                            .description("Inception v3: factorised 5×5 and 7×7 convolutions, efficient grid reductions, batch-norm "
                                    + "auxiliary classifier")
                            .paper(SZEGEDY_2015)
                            .reported(new ReportedError(21.2, 5.6, SINGLE_CROP + " (Table 3, BN-auxiliary)"))
                            .auxiliary(true)
                            .counterpart(torchvision("inception_v3"))
                            .build(),
                    (info, config) -> InceptionV3.build(info.id(), config)),
            ModelEntry.of(inception("inception-v4", 299, Preprocessing.inception(342, 299))
                            .description("Inception-v4: stem, 4 × Inception-A, 7 × Inception-B, 3 × Inception-C with Reduction-A and -B")
                            .paper(SZEGEDY_2016)
                            .reported(new ReportedError(20.0, 5.0, SINGLE_CROP + " (Table 2)"))
                            .counterpart(Counterpart.timm("inception_v4"))
                            .build(),
                    (info, config) -> InceptionV4.build(info.id(), config)),
            ModelEntry.of(inception("inception-resnet-v1", 299, Preprocessing.inception(342, 299))
                            .description("Inception-ResNet-v1 from the paper's figures: residual inception blocks scaled by 0.17/0.10/0.20")
                            .paper(SZEGEDY_2016)
                            .reported(new ReportedError(21.3, 5.5, SINGLE_CROP + " (Table 2)"))
                            .build(),
                    (info, config) -> InceptionResNet.build(info.id(), InceptionResNet.Variant.V1, config)),
            ModelEntry.of(inception("inception-resnet-v2", 299, Preprocessing.inception(333, 299))
                            .description("Inception-ResNet-v2 as Google released it (timm's names): 10/20/10 residual inception blocks")
                            .paper(SZEGEDY_2016)
                            .reported(new ReportedError(19.9, 4.9, SINGLE_CROP + " (Table 2)"))
                            .counterpart(Counterpart.timm("inception_resnet_v2"))
                            .build(),
                    (info, config) -> InceptionResNet.build(info.id(), InceptionResNet.Variant.V2, config)),
            ModelEntry.of(inception("xception", 299, Preprocessing.inception(333, 299))
                            .description("Xception: entry, middle (8 repeats) and exit flows of depthwise separable convolutions with "
                                    + "residual connections")
                            .paper(CHOLLET_2017)
                            .reported(new ReportedError(21.0, 5.5, SINGLE_CROP + " (Table 1)"))
                            .counterpart(Counterpart.keras("Xception"))
                            .build(),
                    (info, config) -> Xception.build(info.id(), config)));

    /** An ImageNet network taking {@code size}×{@code size} colour images. */
    private static ModelInfo.Builder inception(String id, int size, Preprocessing preprocessing) {
        return ModelInfo.builder(id).family(FAMILY).input(3, size, size).classes(1000).preprocessing(preprocessing);
    }

    /**
     * torchvision's GoogLeNet or Inception v3 as the zoo builds it: with the auxiliary heads, without
     * the input transform (the zoo's preprocessing already scales pixels to [-1, 1]), and with
     * torchvision's own initialisation rather than the warning it prints when none is asked for.
     */
    private static Counterpart torchvision(String name) {
        return Counterpart.torchvision(name).with("aux_logits", true).with("transform_input", false).with("init_weights", true);
    }

    @Override
    public List<ModelEntry> models() {
        return MODELS;
    }
}
