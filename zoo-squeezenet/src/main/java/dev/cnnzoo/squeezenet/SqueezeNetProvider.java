package dev.cnnzoo.squeezenet;

import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.ModelEntry;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelProvider;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ReportedError;
import java.util.List;

/** The SqueezeNet family: SqueezeNet 1.1, AlexNet's accuracy from fire modules. */
public final class SqueezeNetProvider implements ModelProvider {
    private static final Paper IANDOLA_2016 = Paper.arxiv("F. N. Iandola, S. Han, M. W. Moskewicz, K. Ashraf, W. J. Dally, K. Keutzer",
            "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size", 2016, "arXiv", "1602.07360");

    private static final List<ModelEntry> MODELS = List.of(
            ModelEntry.of(ModelInfo.builder("squeezenet1-1").family("squeezenet")
                            .description("SqueezeNet 1.1: a 3×3/2 stem of 64 maps, eight fire modules (1×1 squeeze, 1×1 and 3×3 expand) "
                                    + "with max pooling after the stem and fire 3 and 5, a 1×1 convolutional classifier, global average "
                                    + "pooling")
                            .paper(IANDOLA_2016)
                            .input(3, 224, 224).classes(1000).preprocessing(Preprocessing.imagenet(256, 224))
                            .reported(new ReportedError(41.822, 19.376, "torchvision's IMAGENET1K_V1 weights, ImageNet val, 224 centre crop"))
                            .counterpart(Counterpart.torchvision("squeezenet1_1"))
                            .build(),
                    (info, config) -> SqueezeNet.build(info.id(), config)));

    @Override
    public List<ModelEntry> models() {
        return MODELS;
    }
}
