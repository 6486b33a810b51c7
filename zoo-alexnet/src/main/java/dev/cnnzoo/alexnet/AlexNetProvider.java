package dev.cnnzoo.alexnet;

import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.ModelEntry;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelProvider;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ReportedError;
import java.util.List;

/** The AlexNet family: the 2012 ImageNet winner, its torchvision form, and ZF Net (the 2013 winner). */
public final class AlexNetProvider implements ModelProvider {
    static final String FAMILY = "alexnet";

    private static final Paper KRIZHEVSKY_2012 = Paper.doi("A. Krizhevsky, I. Sutskever, G. E. Hinton",
            "ImageNet classification with deep convolutional neural networks", 2012,
            "NIPS 25; reprinted in Communications of the ACM 60(6), 2017", "10.1145/3065386");
    private static final Paper KRIZHEVSKY_2014 = Paper.arxiv("A. Krizhevsky",
            "One weird trick for parallelizing convolutional neural networks", 2014, "arXiv", "1404.5997");
    private static final Paper ZEILER_2013 = Paper.arxiv("M. D. Zeiler, R. Fergus",
            "Visualizing and understanding convolutional networks", 2013, "ECCV 2014", "1311.2901");

    private static final List<ModelEntry> MODELS = List.of(
            ModelEntry.of(alexnet("alexnet", 227)
                            .description("AlexNet as the reference text's table gives it: 96-256-384-384-256 convolutions, LRN after c1 "
                                    + "and c3, overlapping max pooling, dense 4096-4096 with dropout 0.5")
                            .paper(KRIZHEVSKY_2012)
                            .reported(new ReportedError(37.5, 17.0, "ILSVRC-2010 test, one CNN (Table 1)"))
                            .option(AlexNet.GROUPS, "1 (default) or 2: the paper's two-GPU split, c3, c6 and c7 as grouped "
                                    + "convolutions (60,965,224 parameters)")
                            .build(),
                    (info, config) -> AlexNet.build(info.id(), config)),
            ModelEntry.of(alexnet("alexnet-tv", 224)
                            .description("AlexNet as torchvision ships it: 64-192-384-256-256 convolutions, no LRN, adaptive average "
                                    + "pooling to 6×6; torchvision's weights load by name")
                            .paper(KRIZHEVSKY_2014)
                            .reported(new ReportedError(43.478, 20.934,
                                    "torchvision's IMAGENET1K_V1 weights, ImageNet val, 224 centre crop"))
                            .counterpart(Counterpart.torchvision("alexnet"))
                            .build(),
                    (info, config) -> TorchvisionAlexNet.build(info.id(), config)),
            ModelEntry.of(alexnet("zfnet", 224)
                            .description("ZF Net: AlexNet with a 7×7 stride-2 first layer, a stride-2 second layer and dense (unsplit) "
                                    + "layers 3-5, as in the paper's Figure 3")
                            .paper(ZEILER_2013)
                            .reported(new ReportedError(38.4, 16.5, "ILSVRC-2012 val, '1 convnet as per Fig. 3' (Table 2)"))
                            .build(),
                    (info, config) -> ZfNet.build(info.id(), config)));

    /** An ImageNet network taking {@code crop}×{@code crop} colour images, cropped from 256. */
    private static ModelInfo.Builder alexnet(String id, int crop) {
        return ModelInfo.builder(id).family(FAMILY).input(3, crop, crop).classes(1000).preprocessing(Preprocessing.imagenet(256, crop));
    }

    @Override
    public List<ModelEntry> models() {
        return MODELS;
    }
}
