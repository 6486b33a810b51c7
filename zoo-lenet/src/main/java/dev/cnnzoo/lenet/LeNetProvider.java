package dev.cnnzoo.lenet;

import dev.cnnzoo.api.ModelEntry;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelProvider;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.api.PretrainedWeights;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ReportedError;
import java.util.List;

/** The LeNet family: small networks for 28×28 grey images (MNIST, Fashion-MNIST). */
public final class LeNetProvider implements ModelProvider {
    static final String FAMILY = "lenet";

    private static final Paper LECUN_1998 = Paper.doi("Y. LeCun, L. Bottou, Y. Bengio, P. Haffner",
            "Gradient-based learning applied to document recognition", 1998, "Proceedings of the IEEE 86(11)",
            "10.1109/5.726791");
    private static final Paper GERON_2019 = new Paper("A. Géron",
            "Hands-On Machine Learning with Scikit-Learn, Keras, and TensorFlow (2nd ed.), ch. 14", 2019, "O'Reilly", null, null);

    /** Fashion-MNIST's pixel statistics on [0, 1], the data the zoo's pretrained LeNet weights are trained on. */
    static final Preprocessing FASHION_MNIST = Preprocessing.grey(28, 0.2860f, 0.3530f);

    /** Fashion-MNIST's classes by label (Xiao, Rasul and Vollgraf 2017), what the shipped weights predict. */
    static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot");

    /*
     * The zoo's own Fashion-MNIST weights ship with lenet5 and fashion-cnn, with the accuracy they
     * reach on its test set and the command that trains them again (the README's training table has
     * the wall time and speed).
     */
    private static final List<ModelEntry> MODELS = List.of(
            ModelEntry.of(lenet("lenet5")
                            .description("LeNet-5 as published: scaled tanh, trainable subsampling, C3 partial connections, RBF output")
                            .paper(LECUN_1998)
                            .reported(new ReportedError(0.95, null, "MNIST test error, no distortions (paper §III.C)"))
                            .build(),
                    (info, config) -> LeNet5.build(info.id(), config))
                    .withPretrained(PretrainedWeights.resource(LeNetProvider.class, "pretrained/lenet5.safetensors",
                            "Fashion-MNIST, 89.20% test accuracy after 20 epochs: zoo train lenet5 --epochs 20 --batch 64 --optimizer nadam "
                                    + "--lr 2e-3 --schedule cosine", FASHION_CLASSES)),
            ModelEntry.of(lenet("lenet5-modern")
                            .description("LeNet-5's plan with ReLU, max pooling and a dense softmax output")
                            .paper(LECUN_1998)
                            .build(),
                    (info, config) -> ModernLeNet5.build(info.id(), config)),
            ModelEntry.of(lenet("fashion-cnn")
                            .description("The reference text's Fashion-MNIST CNN: 64-128-128-256-256 SAME convolutions, dense 128-64-10, "
                                    + "dropout 0.5")
                            .paper(GERON_2019)
                            .reported(new ReportedError(8.0, null, "Fashion-MNIST test error, 'over 92% accuracy' (reference text)"))
                            .build(),
                    (info, config) -> FashionCnn.build(info.id(), config))
                    .withPretrained(PretrainedWeights.resource(LeNetProvider.class, "pretrained/fashion-cnn.safetensors",
                            "Fashion-MNIST, 92.95% test accuracy after 12 epochs: zoo train fashion-cnn --epochs 12 --batch 64 "
                                    + "--optimizer nadam --lr 1e-3 --schedule cosine", FASHION_CLASSES)));

    /** What every LeNet shares: 28×28 grey images, ten classes, Fashion-MNIST's statistics. */
    private static ModelInfo.Builder lenet(String id) {
        return ModelInfo.builder(id).family(FAMILY).input(1, 28, 28).classes(10).preprocessing(FASHION_MNIST);
    }

    @Override
    public List<ModelEntry> models() {
        return MODELS;
    }
}
